"""ResumableLoader: the training DataLoader that Lightning checkpoints and restores mid-epoch."""

from __future__ import annotations

from typing import Any, Iterator

from torch.utils.data import DataLoader

from strotss.train.pairs import EpochSampler


class ResumableLoader(DataLoader):
    """A DataLoader over an EpochSampler that counts the samples its epoch handed out.

    Lightning saves the state of a train loader with `state_dict`/`load_state_dict` in every checkpoint
    (fit_loop "combined_loader") and restores it when a run resumes mid-epoch, before the first batch;
    the sampler then skips what that epoch had consumed, so the resumed run sees the batches an
    uninterrupted one would. The count is of samples of all ranks together: every rank resumes its shard.
    With another sampler (Lightning's own, for overfit_batches) it is a plain DataLoader.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._position = (0, 0)

    def __iter__(self) -> Iterator[Any]:
        """This epoch's batches, counted; the sampler is read at the first batch, after Lightning set its epoch."""
        sampler = self.sampler
        if not isinstance(sampler, EpochSampler):
            yield from super().__iter__()
            return
        epoch, consumed = sampler.epoch, sampler.start
        per_batch = self.batch_size * sampler.num_replicas
        self._position = (epoch, consumed)
        for batch in super().__iter__():
            consumed += per_batch
            self._position = (epoch, consumed)
            yield batch

    def state_dict(self) -> dict[str, int]:
        """Epoch and samples (all ranks) consumed in it by the batches handed out so far."""
        epoch, consumed = self._position
        return {"epoch": epoch, "consumed": consumed}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue that epoch after its consumed samples (a later epoch starts from its beginning)."""
        self._position = (state["epoch"], state["consumed"])
        if isinstance(self.sampler, EpochSampler):
            self.sampler.resume(state["epoch"], state["consumed"])
