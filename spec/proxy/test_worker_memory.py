"""A worker's threads share one heap of the C allocator, unless the environment says."""

from proxy import worker


class FakeLibc:
    def __init__(self):
        self.calls = []

    def mallopt(self, parameter, value):
        self.calls.append((parameter, value))
        return 1


def test_the_worker_limits_the_allocator_s_heaps(monkeypatch):
    libc = FakeLibc()
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(worker.ctypes, "CDLL", lambda name: libc)
    worker.limit_malloc_arenas()
    assert libc.calls == [(-8, 1)]  # M_ARENA_MAX


def test_malloc_arena_max_in_the_environment_wins(monkeypatch):
    libc = FakeLibc()
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setattr(worker.ctypes, "CDLL", lambda name: libc)
    worker.limit_malloc_arenas()
    assert libc.calls == []


def test_a_c_library_without_mallopt_is_left_alone(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.setattr(worker.ctypes, "CDLL", lambda name: object())
    assert worker.limit_malloc_arenas() is None  # and no AttributeError
