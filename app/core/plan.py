"""From what a person chose (environment, applications, typed addresses) to the targets to check.

Shared by the command line and the window. The practice lab is started only when a practice entry is chosen,
through ``lab_provider``, which whoever starts the lab passes in (the window does it in its worker, never on the
GUI thread): the engine itself never loads the lab's servers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from app.core.addresses import parse_address
from app.core.catalog import Catalog, targets_for
from app.core.model import Target
from app.core.tls_contexts import TrustAnchors


class RunningLab(Protocol):
    """What planning needs of a running practice lab."""

    anchors: TrustAnchors
    company: TrustAnchors  # the practice company's authority, as installed in this computer's store

    def urls(self) -> dict[str, str]:
        """Every scenario's address."""
        ...


def plan_targets(
    catalog: Catalog,
    env_id: str | None,
    app_ids: Sequence[str] = (),
    urls: Sequence[str] = (),
    all_addresses: bool = False,
    lab_provider: Callable[[], RunningLab] | None = None,
    only: Sequence[str] = (),
) -> list[Target]:
    """The targets for a choice; ``only`` keeps just these endpoint ids or typed addresses (a re-check).
    Raises :class:`~app.core.errors.InputError` subclasses in plain words."""
    addresses = [parse_address(u) for u in urls]
    if only:
        addresses = [a for a in addresses if a.url in only]
    targets: list[Target] = []
    if env_id:
        endpoints = catalog.select(env_id, app_ids, all_addresses)
        if only:
            endpoints = [e for e in endpoints if e.id in only]
        if any(e.lab for e in endpoints):
            if lab_provider is None:
                raise ValueError("practice addresses need the practice lab: pass lab_provider")
            lab = lab_provider()
            targets = targets_for(endpoints, lab.urls(), lab.anchors, lab.company)
        else:
            targets = targets_for(endpoints)
    targets += [Target(a.url, a.url, a) for a in addresses]
    return targets
