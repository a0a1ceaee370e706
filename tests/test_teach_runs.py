"""`strotss teach`: outputs + imagefolder metadata for (content, style) pairs, resumable, sharded by rank."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import lightning.pytorch as pl
import pytest
from train_helpers import TINY_NET, make_folder

from strotss.errors import UserError
from strotss.teacher.config import StrotssConfig
from strotss.train import StrotssModule, StyleData
from strotss.train.sources import open_images
from strotss.train.teach import check_outputs, list_pairs, run_teacher, shard


@pytest.fixture()
def pairs(tmp_path: Path) -> list[tuple[Path, Path]]:
    """Two tiny (content, style) pairs: two contents × one style."""
    content = make_folder(tmp_path / "content", 2, size=(64, 80))
    style = make_folder(tmp_path / "style", 1, size=(72, 72), seed=4, prefix="paint")
    return list_pairs(str(content), str(style))


def test_teach_writes_a_dataset_and_resumes(pairs, tmp_path: Path) -> None:
    """Outputs and metadata.jsonl appear, `datasets` reads them, and a rerun skips the finished pairs."""
    out = tmp_path / "teacher"
    config = StrotssConfig(size=64, iters=3, weights="random", device="cpu")
    assert run_teacher(pairs[:1], out, config, progress=False) == (1, 0)
    assert run_teacher(pairs, out, config, progress=False) == (1, 1)
    rows = [json.loads(line) for line in (out / "metadata.jsonl").read_text().splitlines()]
    assert [r["file_name"] for r in rows] == ["img00__paint00.png", "img01__paint00.png"]
    assert rows[0]["content"] == "../content/img00.jpg" and rows[0]["iters"] == 3
    ds = open_images(str(out))
    assert len(ds) == 2 and {"content", "style", "objective"} <= set(ds.column_names)
    assert run_teacher(pairs, out, config, progress=False) == (0, 2)


def test_ranks_take_disjoint_shards(pairs, tmp_path: Path) -> None:
    """Every pair goes to exactly one rank; duplicate output names are refused."""
    assert shard(pairs, 0, 2) + shard(pairs, 1, 2) == pairs
    with pytest.raises(UserError, match="would both be written to .*img00__paint00.png"):
        check_outputs(pairs + pairs[:1], tmp_path / "t")


def test_cli_teach_reports_and_resumes(pairs, tmp_path: Path, capsys) -> None:
    """The verb runs end to end from folders and reports skipped pairs on rerun."""
    from strotss.commands import teach

    parser = argparse.ArgumentParser()
    teach.add_arguments(parser)
    argv = ["--content", str(pairs[0][0]), "--style", str(pairs[0][1]), "--out", str(tmp_path / "t"),
            "--size", "64", "--iters", "2", "--weights", "random", "--device", "cpu", "--no-progress"]
    assert teach.run(parser.parse_args(argv)) == 0
    assert teach.run(parser.parse_args(argv)) == 0
    assert "optimized 0 pairs, skipped 1" in capsys.readouterr().out


def test_training_distils_from_a_teacher_set_and_reports_the_gap(pairs, tmp_path: Path) -> None:
    """A teacher folder feeds the L1 distillation term and the validation teacher gap."""
    out = tmp_path / "teacher"
    run_teacher(pairs, out, StrotssConfig(size=64, iters=2, weights="random", device="cpu"), progress=False)
    data = StyleData(teacher=str(out), crop=48, style_size=48, n_positions=64, min_size=32, batch_size=1,
                     num_workers=0, num_val=1)
    module = StrotssModule(model_kwargs=TINY_NET, extractor_weights="random", n_style=64, distill_weight=1.0,
                           val_repeats=1)
    trainer = pl.Trainer(accelerator="cpu", max_steps=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(module, datamodule=data)
    metrics = trainer.callback_metrics
    assert float(metrics["train/distill"]) > 0
    assert {"val/total", "val/teacher_total", "val/teacher_gap_pct"} <= set(metrics)
