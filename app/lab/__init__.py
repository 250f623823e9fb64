"""The practice lab: local servers on 127.0.0.1 that reproduce every failure the checker recognises."""

from app.lab.server import PracticeLab, shared_lab, start_lab, stop_shared_lab

__all__ = ["PracticeLab", "shared_lab", "start_lab", "stop_shared_lab"]
