import pytest

from services.core import strict_json


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "[-Infinity]"])
def test_the_constants_json_lacks_are_refused(text):
    with pytest.raises(strict_json.NotJson, match="is not JSON"):
        strict_json.loads(text)


def test_json_reads_as_json():
    assert strict_json.loads(b'{"a": [1, 2.5, "NaN"]}') == {"a": [1, 2.5, "NaN"]}
