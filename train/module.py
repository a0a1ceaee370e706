"""StrotssModule: trains a stylization network on the STROTSS objective (plus optional teacher distillation)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Timer
from torchmetrics import MeanMetric

from strotss.choices import LossPrecision, ModelName, Trainable, Weighting, check_choices
from strotss.errors import UserError
from strotss.losses import (FeatureExtractor, build_extractor, random_motion, sample_hypercolumns, score_image,
                            strotss_loss, temporal_loss, warp)
from strotss.method import ALPHA, EXTRACTOR, N_STYLE, TERMS, WEIGHTING
from strotss.models import checkpoint_meta, create_model, load_model, onnx_state_dict
from strotss.pretrained import resolve_model
from strotss.train.checkpoints import as_saved_at_last_batch
from strotss.train.style_bank import StyleBank

LrSchedule = Literal["constant", "cosine"]


@dataclass(frozen=True)
class Unregistered:
    """Holds a module outside its owner's nn.Module tree: not trained, not checkpointed, not moved by .to()."""

    module: torch.nn.Module


class StrotssModule(pl.LightningModule):
    """A per-style or arbitrary-style network under the STROTSS loss at fixed α (method note, last section).

    Args:
        model: the network kind, "per_style" or "arbitrary" (strotss.models.kinds).
        model_kwargs: constructor arguments of the network.
        extractor: loss feature extractor: "vgg19" (embedded), "vgg16" or "timm:<name>".
        extractor_weights: None for pretrained, "random" (tests only) or a path to a state dict.
        alpha: content weight α, fixed during training; for a network conditioned on α (model_kwargs
            alpha_range), the weight it is validated at, while training draws one α per image, log-uniformly
            from that range, every step.
        weighting: "code" (authors' code) or "paper" term weighting.
        n_style: style hypercolumns drawn afresh from each style image every step (its features are cached).
        style_cache: style banks kept in memory (LRU) for arbitrary-style training.
        distill_weight: weight of the L1 distance to teacher outputs when the data has them (0 turns it off).
        temporal_weight: weight of the temporal consistency term (strotss.losses.temporal): each step also
            stylizes the batch moved by a small random pan, zoom and rotation and asks for the output moved
            the same way (L1, [0, 1] pixels), so video from a moving camera flickers less; 0 turns it off.
        lr: AdamW learning rate.
        lr_schedule: "constant", or "cosine": linear warm-up, then cosine decay to 0 at trainer.max_steps, or,
            when only trainer.max_time is set, at the end of that time (short runs end noticeably lower
            with a decay).
        warmup_steps: steps of linear warm-up for the cosine schedule.
        init_weights: start from the weights of this model file (`strotss.models.save_model`, a bundled
            model's source checkpoint, a Lightning checkpoint, or a per-style ONNX file or bundled name such
            as wheat_field) with a fresh optimizer: fine-tuning, e.g. a GPU-trained network continued on a
            CPU. Resuming an interrupted run is --ckpt_path instead.
        trainable: "all" trains every parameter of the network; "norms" only its normalization layers' scales
            and shifts (about 3 k of base's 1.67 M), the rest frozen: fast, low-noise adaptation of a trained
            network to new conditions, e.g. whole photos at the scale they are stylized at (a style lives
            largely in those parameters: Dumoulin et al., 2017).
        weight_decay: AdamW weight decay.
        val_repeats: sample draws averaged per validation image by score_image.
        seed: seed of the style pixel draws.
        loss_precision: "bf16" runs the loss's nearest-neighbour search and gradient-only matmuls in bfloat16
            (values stay fp32; see strotss.losses.precision),
            "fp32" keeps them exact, "auto" picks bf16 where the hardware has fast bf16 (CUDA, AVX512-BF16).
    """

    def __init__(self, model: ModelName = "per_style", model_kwargs: dict[str, Any] | None = None,
                 extractor: str = EXTRACTOR, extractor_weights: str | None = None, alpha: float = ALPHA,
                 weighting: Weighting = WEIGHTING, n_style: int = N_STYLE, style_cache: int = 64,
                 distill_weight: float = 0.0, temporal_weight: float = 0.0, lr: float = 1e-3,
                 weight_decay: float = 0.0, val_repeats: int = 2,
                 seed: int = 0, loss_precision: LossPrecision = "auto", lr_schedule: LrSchedule = "constant",
                 warmup_steps: int = 0, init_weights: str | None = None, trainable: Trainable = "all") -> None:
        super().__init__()
        self.save_hyperparameters()
        check_choices(StrotssModule.__init__, self.hparams)
        for name in ("distill_weight", "temporal_weight"):
            if not 0 <= self.hparams[name] < math.inf:
                raise UserError(f"model.{name}: {self.hparams[name]} is not a weight; give a number ≥ 0 (0 turns the "
                                f"term off)")
        self.net = create_model(model, **(model_kwargs or {}))
        if init_weights is not None:
            self._load_init_weights(init_weights)
        if trainable == "norms":
            if init_weights is None:
                raise UserError("model.trainable: norms adapts a trained network (a fresh one's output layer is "
                                "zero, so its norms alone cannot move it); give --model.init_weights WEIGHTS")
            _freeze_all_but_norms(self.net)
        self._loss_extractor = Unregistered(build_extractor(extractor, extractor_weights))
        self.bank = StyleBank(n_style, style_cache, seed)
        self.val_student = MeanMetric()
        self.val_teacher = MeanMetric()
        self.skipped = 0

    def _load_init_weights(self, path: str) -> None:
        """Copy a saved network's weights into self.net; its kind and preset must match this run's.

        `path` may be a checkpoint, a per-style ONNX file or a bundled model's name.
        """
        source = resolve_model(path)
        if source.suffix.lower() == ".onnx":
            state, meta = onnx_state_dict(source, self.net)
        else:
            net, meta = load_model(source)
            state = net.state_dict()
        if meta.get("model_name") != self.hparams.model:
            raise UserError(f"{path}: a {meta.get('model_name')} network, but this run trains model={self.hparams.model}")
        source_noise = (meta.get("model_kwargs") or {}).get("noise", 0.0)
        own_noise = (self.hparams.model_kwargs or {}).get("noise", 0.0)
        if source_noise and source_noise != own_noise:  # adding noise is a fine-tuning stage; losing it is a slip
            raise UserError(f"{path}: trained with fixed input noise {source_noise}, but this run's model_kwargs "
                            f"give noise {own_noise}; use the model_kwargs of its model card "
                            f"({meta.get('model_kwargs')})")
        try:
            self.net.load_state_dict(state)
        except RuntimeError as exc:
            raise UserError(f"{path}: weights do not fit model_kwargs={self.hparams.model_kwargs} "
                            f"({str(exc).splitlines()[0]}); use the model_kwargs it was trained with "
                            f"({meta.get('model_kwargs', 'see its model card')})") from None

    @property
    def extractor(self) -> FeatureExtractor:
        """The frozen loss extractor, moved to this module's device on first use."""
        ext = self._loss_extractor.module
        if ext.mean.device != self.device:
            ext.to(self.device)
        return ext

    @property
    def conditioned(self) -> bool:
        """Whether the network takes the content weight α as an input (model_kwargs alpha_range)."""
        return bool(getattr(self.net, "conditioned", False))

    def forward(self, content: torch.Tensor, style: torch.Tensor, alpha: torch.Tensor | None = None) -> torch.Tensor:
        """Stylize content (B×3×H×W in [0, 1]) with the style batch (read by networks that take a style); a network
        conditioned on α runs at `alpha` (B values; default: the validation α)."""
        return self.stylize(content, self.net.style_code(style), alpha)

    def stylize(self, content: torch.Tensor, code: torch.Tensor | None, alpha: torch.Tensor | None = None
                ) -> torch.Tensor:
        """Stylize content with a style code already computed (None for a network that reads no style), so that a
        step stylizing twice (the temporal term) runs the style encoder once."""
        if self.conditioned:
            return self.net.stylize(content, code, alpha=self.hparams.alpha if alpha is None else alpha)
        return self.net.stylize(content, code)

    def style_code(self, batch: dict[str, Any]) -> torch.Tensor | None:
        """The batch's style codes, each distinct style (by key) encoded once: a batch sharing one painting
        (data.shared_style) runs the style encoder on one image."""
        keys = batch["style_key"]
        distinct = list(dict.fromkeys(keys))
        if len(distinct) == len(keys):
            return self.net.style_code(batch["style"])
        code = self.net.style_code(batch["style"][[keys.index(k) for k in distinct]])
        return None if code is None else code[[distinct.index(k) for k in keys]]

    def draw_alpha(self, n: int) -> torch.Tensor:
        """n content weights drawn log-uniformly from the network's alpha_range, seeded by the step (resumable)."""
        g = torch.Generator().manual_seed(self.hparams.seed * 1_000_003 + self.global_step)
        lo, hi = math.log(self.net.film.lo), math.log(self.net.film.hi)
        return torch.exp(lo + (hi - lo) * torch.rand(n, generator=g)).to(self.device)

    def objective(self, batch: dict[str, Any], output: torch.Tensor, alpha: torch.Tensor | None = None
                  ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Mean STROTSS total and terms over the batch (at `alpha`, B values, else the fixed α), in fp32 whatever
        the training precision."""
        return self.objective_of_features(batch, output, *self.loss_features(batch, output), alpha=alpha)

    def loss_features(self, batch: dict[str, Any], output: torch.Tensor
                      ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The loss extractor's feature maps of the output (with gradient) and of the content (without)."""
        ext = self.extractor
        feats_out = ext(output)
        with torch.no_grad():
            feats_con = ext(batch["content"])
        return feats_out, feats_con

    def objective_of_features(self, batch: dict[str, Any], output: torch.Tensor, feats_out: list[torch.Tensor],
                              feats_con: list[torch.Tensor], alpha: torch.Tensor | None = None
                              ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """The objective from feature maps already computed (`strotss bench train` times the two parts apart)."""
        ext = self.extractor
        with torch.autocast(self.device.type, enabled=False):
            pos = batch["positions"]
            out_hc = sample_hypercolumns(output.float(), [f.float() for f in feats_out], pos, ext.strides)
            con_hc = sample_hypercolumns(batch["content"].float(), [f.float() for f in feats_con], pos, ext.strides)
            target = self.bank.targets(batch["style_key"], batch["style"], ext, draw=self.global_step)
            total, terms = strotss_loss(out_hc, con_hc, target, self.hparams.alpha if alpha is None else alpha,
                                        self.hparams.weighting,
                                        loss_precision=self.hparams.loss_precision)
        return total.mean(), {k: v.mean() for k, v in terms.items()}

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> dict[str, torch.Tensor] | None:
        """One step on a batch; a batch whose images were all skipped is passed over."""
        self.skipped += len(batch["skipped"])
        self.log("data/skipped", float(self.skipped), reduce_fx="sum", sync_dist=True)
        if "content" not in batch:
            return None
        alpha = self.draw_alpha(batch["content"].shape[0]) if self.conditioned else None
        code = self.style_code(batch)
        output = self.stylize(batch["content"], code, alpha)
        total, terms = self.objective(batch, output, alpha)
        loss = total
        if "teacher" in batch and self.hparams.distill_weight > 0:
            distill = (output.float() - batch["teacher"].float()).abs().mean()
            loss = loss + self.hparams.distill_weight * distill
            self.log("train/distill", distill, sync_dist=True)
        if self.hparams.temporal_weight > 0:
            temporal = self.temporal_term(batch, output, alpha, code)
            loss = loss + self.hparams.temporal_weight * temporal
            self.log("train/temporal", temporal, sync_dist=True)
        self.log("train/loss", loss, prog_bar=True, sync_dist=True)
        self.log("train/total", total, sync_dist=True)
        self.log_dict({f"train/{k}": v for k, v in terms.items()}, sync_dist=True)
        return {"loss": loss, "output": output.detach()}

    def temporal_term(self, batch: dict[str, Any], output: torch.Tensor, alpha: torch.Tensor | None,
                      code: torch.Tensor | None = None) -> torch.Tensor:
        """Mean L1 between the output of the batch moved by random camera motion (seeded by the step, so a
        resumed run draws the same) and the output moved the same way; `code`: the batch's style code if known."""
        g = torch.Generator().manual_seed(self.hparams.seed * 1_000_033 + self.global_step)
        motion = random_motion(output.shape[0], g).to(self.device)
        moved, _ = warp(batch["content"], motion)
        code = self.style_code(batch) if code is None else code
        return temporal_loss(self.stylize(moved, code, alpha), output, motion).mean()

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        """Score student (and teacher) outputs of held-out pairs with score_image, image by image."""
        if "content" not in batch:
            return
        output = self(batch["content"], batch["style"]).float()
        for i in range(output.shape[0]):
            pair = (batch["content"][i:i + 1].float(), batch["style"][i:i + 1].float())
            scores = score_image(output[i:i + 1], *pair, self.extractor, alpha=self.hparams.alpha,
                                     weighting=self.hparams.weighting, n_style=self.hparams.n_style,
                                     repeats=self.hparams.val_repeats)
            self.val_student.update(scores["total"])
            self.log_dict({f"val/{k}": scores[k] for k in TERMS}, sync_dist=True, batch_size=1)
            if "teacher" in batch:
                teacher = score_image(batch["teacher"][i:i + 1].float(), *pair, self.extractor,
                                          alpha=self.hparams.alpha, weighting=self.hparams.weighting,
                                          n_style=self.hparams.n_style, repeats=self.hparams.val_repeats)
                self.val_teacher.update(teacher["total"])

    def on_validation_epoch_end(self) -> None:
        """Log the student objective and, with teacher outputs, the teacher's and the gap in %."""
        if self.val_student.update_count:
            student = self.val_student.compute()
            self.log("val/total", student)
            if self.val_teacher.update_count:
                teacher = self.val_teacher.compute()
                self.log("val/teacher_total", teacher)
                self.log("val/teacher_gap_pct", 100.0 * (student - teacher) / teacher)
        self.val_student.reset()
        self.val_teacher.reset()

    def configure_optimizers(self) -> Any:
        """AdamW over the network's trainable parameters (frozen ones, e.g. a style encoder, stay frozen),
        optionally cosine."""
        params = [p for p in self.net.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        if self.hparams.lr_schedule == "constant":
            return opt
        progress = self._schedule_progress()
        warmup = max(0, self.hparams.warmup_steps)

        def factor(step: int) -> float:
            if step < warmup:
                return (step + 1) / warmup
            return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress(step))))

        schedule = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": schedule, "interval": "step"}}

    def _schedule_progress(self) -> Callable[[int], float]:
        """Fraction of the run done after a step: by steps towards trainer.max_steps, else by trainer.max_time.

        The time-based form makes a time-boxed run (e.g. a GPU lease) end at learning rate 0 whatever its
        speed; Lightning's Timer keeps the elapsed time in checkpoints, so a resumed run continues the curve.
        """
        total = self.trainer.max_steps
        warmup = max(0, self.hparams.warmup_steps)
        if total is not None and total > 0:
            return lambda step: (step - warmup) / max(1, total - warmup)
        timer = next((c for c in getattr(self.trainer, "callbacks", []) if isinstance(c, Timer)), None)
        if timer is None:
            raise UserError("lr_schedule: cosine decays to 0 at trainer.max_steps or at the end of trainer.max_time; "
                            "set one of them")

        def by_time(step: int) -> float:
            elapsed = timer.time_elapsed()
            return elapsed / max(1e-9, elapsed + max(0.0, timer.time_remaining() or 0.0))

        return by_time

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Add the "strotss" metadata that `strotss export` and strotss.models.load_model read; a checkpoint
        written after a stop gets the loop state of the last step, so that `--ckpt_path` resumes exactly."""
        as_saved_at_last_batch(checkpoint)
        data_hparams = getattr(getattr(self.trainer, "datamodule", None), "hparams", {})
        style = data_hparams.get("style")
        style_name = Path(style).stem if style and not self.net.needs_style else None
        train_size = data_hparams.get("content_size") or data_hparams.get("crop")
        checkpoint["strotss"] = checkpoint_meta(self.hparams.model, self.hparams.model_kwargs, style_name, train_size)


def _freeze_all_but_norms(net: torch.nn.Module) -> None:
    """Leave only the affine parameters of normalization layers trainable (trainable="norms")."""
    norm_types = (torch.nn.modules.batchnorm._NormBase, torch.nn.GroupNorm, torch.nn.LayerNorm)
    keep = {id(p) for m in net.modules() if isinstance(m, norm_types) for p in m.parameters(recurse=False)}
    if not keep:
        raise UserError(f"trainable: norms, but {type(net).__name__} has no normalization layer with parameters")
    for p in net.parameters():
        if id(p) not in keep:
            p.requires_grad_(False)
