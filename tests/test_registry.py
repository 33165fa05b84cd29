"""Registries: every registered pass's name equals its class's ``name``; dialects load; xdsl-opt sees them."""

from xdsl.universe import Universe

from gemforge.dialects import get_all_dialects
from gemforge.passes import get_all_passes


def test_pass_names_match_registry():
    for name, factory in get_all_passes().items():
        assert factory().name == name


def test_dialect_names_match_registry():
    for name, factory in get_all_dialects().items():
        dialect = factory()
        assert dialect.name == name
        for op in dialect.operations:
            assert op.name.startswith(name + "."), op.name


def test_universe_entry_point_exposes_gemforge():
    multiverse = Universe.get_multiverse()
    assert set(get_all_dialects()) <= set(multiverse.all_dialects)
    assert set(get_all_passes()) <= set(multiverse.all_passes)
