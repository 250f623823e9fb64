"""The practice lab: local servers on 127.0.0.1 that reproduce every failure the checker recognises."""

from app.lab.server import PracticeLab, start_lab

__all__ = ["PracticeLab", "start_lab"]
