"""The pattern by which ``tests/test_browser.py`` recognises a progress bar frozen on a built page."""

from __future__ import annotations

import io

from helpers import PROGRESS_BAR


def test_progress_bar_pattern_matches_tqdm_text():
    """The pattern recognises what tqdm prints (so the browser test that no page shows a bar can fail)."""
    from tqdm import tqdm

    bar = tqdm(total=500, desc="epoch 3/6", file=io.StringIO(), ascii=False)
    bar.update(200)
    line = str(bar)
    bar.close()
    assert PROGRESS_BAR.search(line), line
    assert PROGRESS_BAR.search("epoch 3/6:   0%|          | 0/500 [00:00<?, ?it/s]")
    assert not PROGRESS_BAR.search("trained the gan run: 4/4 epochs, 3128 iterations in 61 s; last epoch: D 1.37")
