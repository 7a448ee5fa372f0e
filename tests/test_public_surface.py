"""The package's public surface is deliberate: a sorted __all__ of names that exist."""

import miliacheck


def test_all_is_sorted_and_every_name_exists() -> None:
    assert miliacheck.__all__ == sorted(miliacheck.__all__)
    for name in miliacheck.__all__:
        assert hasattr(miliacheck, name)
