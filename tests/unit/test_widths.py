"""How a width is written (no Keras): shares, seven layer widths, and low-rank blocks."""

from __future__ import annotations

import pytest

from model.widths import block_ranks, layer_widths, width_name, with_ranks

SHIPPED = "32-64-128-128-384-384-192"


def test_a_low_rank_block_keeps_its_width_and_names_its_rank():
    width = "32-64-128-128-384r256-384r160-192"
    assert layer_widths(width) == ([32, 64, 128, 128, 384, 384], 192)
    assert block_ranks(width) == [None, None, None, None, 256, 160]
    assert width_name(width) == f"w{width}"


def test_full_widths_have_no_ranks():
    assert block_ranks(SHIPPED) == [None] * 6
    assert block_ranks(0.5) == [None] * 6
    assert block_ranks("0.5") == [None] * 6


def test_ranks_are_written_into_a_width():
    assert with_ranks(SHIPPED, {6: 160}) == "32-64-128-128-384-384r160-192"
    assert with_ranks("32-64-128-128-384-384r160-192", {5: 256}) == "32-64-128-128-384r256-384r160-192"
    assert with_ranks(0.5, {6: 64}) == "32-64-128-128-256-256r64-128"


@pytest.mark.parametrize("width", [
    "32-64-128-128-384-384r384-192",  # a rank as wide as its block saves nothing
    "32-64-128-128-384-384r4-192",  # under the narrowest width
    "32-64-128-128-384-384-192r96",  # the LSTMs have no rank
    "32-64-128-128-384-384r-192",
    "32-64-128-128-384-384r1r2-192",
    "32-64-128-128-384-192",
    "32-64-128-128-3_84-384-192",  # int() would read these as 384: one network, several names
    "32-64-128-128- 384-384-192",
    "32-64-128-128-+384-384-192",
    "32-64-128-128-384-384-+192",
])
def test_a_rank_out_of_place_or_range_is_refused(width):
    with pytest.raises(ValueError, match="width"):
        layer_widths(width)


def test_a_rank_too_large_for_its_block_is_refused_when_written():
    with pytest.raises(ValueError):
        with_ranks(SHIPPED, {6: 384})


@pytest.mark.parametrize("block", [0, 7])
def test_ranks_are_written_only_into_the_six_conv_blocks(block):
    with pytest.raises(ValueError, match="numbered 1 to 6"):
        with_ranks(SHIPPED, {block: 64})
