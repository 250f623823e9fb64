"""The Qt binding itself: signals must not leak or steal references (PySide6 6.12.0 steals one from True/False
on every emit, which aborts a Python 3.11 process after a few thousand signals)."""

import sys

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot


class _Emitter(QObject):
    value = Signal(object)
    plain = Signal()


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    @Slot(object)
    def take(self, _value: object) -> None:
        self.count += 1


def _counts() -> tuple[int, int]:
    return sys.getrefcount(True), sys.getrefcount(False)


def _assert_kept(before: tuple[int, int], after: tuple[int, int]) -> None:
    # The defect loses one reference per emit (500 here); a few come and go with ordinary bookkeeping.
    lost = (before[0] - after[0], before[1] - after[1])
    assert max(lost) < 50, f"True/False lost {lost[0]}/{lost[1]} references over 500 signals"


def test_emitting_signals_keeps_reference_counts(qapp):
    emitter, receiver = _Emitter(), _Receiver()
    emitter.value.connect(receiver.take)
    before = _counts()
    for i in range(500):  # few enough not to abort the process if the defect is back
        emitter.value.emit(i)
        emitter.plain.emit()
    assert receiver.count == 500
    _assert_kept(before, _counts())


def test_cross_thread_signals_arrive_and_keep_reference_counts(qapp, qtbot):
    emitter, receiver = _Emitter(), _Receiver()
    emitter.value.connect(receiver.take)

    class Task(QRunnable):
        def run(self) -> None:
            for i in range(500):
                emitter.value.emit(i)

    pool = QThreadPool()
    task = Task()
    task.setAutoDelete(False)
    before = _counts()
    pool.start(task)
    pool.waitForDone()
    qtbot.waitUntil(lambda: receiver.count == 500)
    _assert_kept(before, _counts())
