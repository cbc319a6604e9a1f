from host.shared_flush import SharedFlush


def test_a_commit_covered_by_a_later_started_flush_is_not_flushed_again(tmp_path):
    flushes = []
    one = SharedFlush(tmp_path / "state.flush", lambda: flushes.append("one"))
    other = SharedFlush(tmp_path / "state.flush", lambda: flushes.append("other"))
    first = one.number_commit()
    second = other.number_commit()  # another process commits before the flush starts
    assert (first, second) == (1, 2)
    one.wait_flushed(first)
    other.wait_flushed(second)
    assert flushes == ["one"]


def test_a_commit_after_the_last_flush_began_is_flushed(tmp_path):
    flushes = []
    one = SharedFlush(tmp_path / "state.flush", lambda: flushes.append("one"))
    other = SharedFlush(tmp_path / "state.flush", lambda: flushes.append("other"))
    one.wait_flushed(one.number_commit())
    other.wait_flushed(other.number_commit())
    assert flushes == ["one", "other"]


def test_without_its_counters_file_each_writer_flushes_for_itself(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")  # no file can be made under it, as in a read-only folder
    flushes = []
    shared = SharedFlush(not_a_folder / "state.flush", lambda: flushes.append(1))
    number = shared.number_commit()
    shared.wait_flushed(number)
    shared.wait_flushed(number)
    assert number == 0
    assert flushes == [1, 1]
