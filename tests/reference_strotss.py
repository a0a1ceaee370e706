"""A deliberately simple reference of the STROTSS loss terms, written from the method note (docs/strotss-method.md).

Everything here is plain Python on float64 numbers (nested lists), with explicit loops and no vectorization or
autograd, so that it can be read line by line against the spec and shares no code (and no bugs) with
`strotss.losses`. Each function handles ONE set of samples (no batch axis); tests loop over the batch.

Conventions chosen here (the spec is silent on them):
- the cosine of a zero vector with anything is taken as 0 (zero vectors count as orthogonal);
- a column of a self-distance matrix whose sum is 0 is left at 0 when normalized.
"""

from __future__ import annotations

import math

# Spec, loss term 3: orthonormal colour rotation, first axis = grey axis.
COLOUR_ROTATION = [[0.577350, 0.577350, 0.577350],
                   [-0.577350, 0.788675, -0.211325],
                   [-0.577350, -0.211325, 0.788675]]


def as_lists(x) -> list:
    """Tensor / array / nested sequence → nested Python lists of floats (float64)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().double().tolist()
    elif hasattr(x, "tolist"):
        x = x.tolist()
    return x


# ---------------------------------------------------------------- costs

def dot(u: list[float], v: list[float]) -> float:
    total = 0.0
    for k in range(len(u)):
        total += u[k] * v[k]
    return total


def norm(u: list[float]) -> float:
    return math.sqrt(dot(u, u))


def cosine(u: list[float], v: list[float]) -> float:
    nu, nv = norm(u), norm(v)
    if nu == 0.0 or nv == 0.0:
        return 0.0
    return dot(u, v) / (nu * nv)


def cosine_distance(u: list[float], v: list[float]) -> float:
    """1 − cos(u, v)."""
    return 1.0 - cosine(u, v)


def squared_l2(u: list[float], v: list[float]) -> float:
    total = 0.0
    for k in range(len(u)):
        total += (u[k] - v[k]) ** 2
    return total


def palette_distance(u: list[float], v: list[float]) -> float:
    """Spec term 3: cosine distance + sqrt(clamp(squared L2 / 3, 1e-5, 1e5))."""
    sq = squared_l2(u, v) / 3.0
    sq = min(max(sq, 1e-5), 1e5)
    return cosine_distance(u, v) + math.sqrt(sq)


def cost_matrix(a: list[list[float]], b: list[list[float]], cost=cosine_distance) -> list[list[float]]:
    n, m = len(a), len(b)
    c = [[0.0] * m for _ in range(n)]
    for i in range(n):
        for j in range(m):
            c[i][j] = cost(a[i], b[j])
    return c


# ---------------------------------------------------------------- loss term 1: relaxed EMD

def relaxed_emd(a, b, cost=cosine_distance) -> float:
    """ℓ_r = max( mean_i min_j C_ij , mean_j min_i C_ij )."""
    a, b = as_lists(a), as_lists(b)
    c = cost_matrix(a, b, cost)
    n, m = len(a), len(b)
    row_total = 0.0
    for i in range(n):
        best = c[i][0]
        for j in range(1, m):
            if c[i][j] < best:
                best = c[i][j]
        row_total += best
    col_total = 0.0
    for j in range(m):
        best = c[0][j]
        for i in range(1, n):
            if c[i][j] < best:
                best = c[i][j]
        col_total += best
    return max(row_total / n, col_total / m)


# ---------------------------------------------------------------- loss term 2: moments

def mean_vector(x: list[list[float]]) -> list[float]:
    n, ch = len(x), len(x[0])
    mu = [0.0] * ch
    for i in range(n):
        for k in range(ch):
            mu[k] += x[i][k]
    return [v / n for v in mu]


def covariance(x: list[list[float]]) -> list[list[float]]:
    """Covariance with 1/N normalization (authors' code)."""
    n, ch = len(x), len(x[0])
    mu = mean_vector(x)
    cov = [[0.0] * ch for _ in range(ch)]
    for i in range(n):
        for k in range(ch):
            for l in range(ch):
                cov[k][l] += (x[i][k] - mu[k]) * (x[i][l] - mu[l])
    return [[v / n for v in row] for row in cov]


def moment_loss(a, b) -> float:
    """ℓ_m = mean_k |μ_A,k − μ_B,k| + mean_kl |Σ_A,kl − Σ_B,kl|."""
    a, b = as_lists(a), as_lists(b)
    mu_a, mu_b = mean_vector(a), mean_vector(b)
    cov_a, cov_b = covariance(a), covariance(b)
    ch = len(mu_a)
    mean_term = 0.0
    for k in range(ch):
        mean_term += abs(mu_a[k] - mu_b[k])
    cov_term = 0.0
    for k in range(ch):
        for l in range(ch):
            cov_term += abs(cov_a[k][l] - cov_b[k][l])
    return mean_term / ch + cov_term / (ch * ch)


# ---------------------------------------------------------------- loss term 3: palette

def rotate_colour(rgb: list[float]) -> list[float]:
    """R · rgb with the spec's rotation matrix."""
    out = [0.0, 0.0, 0.0]
    for r in range(3):
        for c in range(3):
            out[r] += COLOUR_ROTATION[r][c] * rgb[c]
    return out


def palette_loss(a_rgb, b_rgb) -> float:
    """Relaxed EMD on rotated RGB with the palette cost."""
    a = [rotate_colour(p[:3]) for p in as_lists(a_rgb)]
    b = [rotate_colour(p[:3]) for p in as_lists(b_rgb)]
    return relaxed_emd(a, b, cost=palette_distance)


# ---------------------------------------------------------------- loss term 4: self-similarity

def normalized_self_distance(x: list[list[float]]) -> list[list[float]]:
    """D_ij = 1 − cos(x_i, x_j), each column j divided by Σ_k D_kj."""
    n = len(x)
    d = cost_matrix(x, x, cosine_distance)
    out = [[0.0] * n for _ in range(n)]
    for j in range(n):
        col_sum = 0.0
        for k in range(n):
            col_sum += d[k][j]
        for i in range(n):
            out[i][j] = d[i][j] / col_sum if col_sum != 0.0 else 0.0
    return out


def self_similarity_loss(out, content) -> float:
    """ℓ_c = (1/n) Σ_ij | D^X_ij/Σ_k D^X_kj − D^C_ij/Σ_k D^C_kj |."""
    x, c = as_lists(out), as_lists(content)
    n = len(x)
    dx, dc = normalized_self_distance(x), normalized_self_distance(c)
    total = 0.0
    for i in range(n):
        for j in range(n):
            total += abs(dx[i][j] - dc[i][j])
    return total / n


# ---------------------------------------------------------------- loss term 5: total

def combine(content: float, remd: float, moment: float, palette: float, alpha: float,
            weighting: str = "code") -> float:
    """code: (αℓc + ℓr + ℓm + ℓp/max(α,1)) / (α+2); paper: (αℓc + ℓm + ℓr + ℓp/α) / (2 + α + 1/α)."""
    if weighting == "code":
        return (alpha * content + remd + moment + palette / max(alpha, 1.0)) / (alpha + 2.0)
    if weighting == "paper":
        return (alpha * content + moment + remd + palette / alpha) / (2.0 + alpha + 1.0 / alpha)
    raise ValueError(weighting)


def strotss_terms(out, content, style, point_out=None, point_style=None) -> dict[str, float]:
    """The four terms for one image: out/content N×C at the same positions, style M×C.

    Guidance (spec, point-to-point): point_out / point_style are P×K×C; an extra relaxed EMD per pair,
    averaged over pairs, is added to ℓ_r; the point samples also enter the moment term (both sides).
    """
    out, content, style = as_lists(out), as_lists(content), as_lists(style)
    remd = relaxed_emd(out, style)
    moment_a, moment_b = list(out), list(style)
    if point_out is not None:
        po, ps = as_lists(point_out), as_lists(point_style)
        pair_total = 0.0
        for p in range(len(po)):
            pair_total += relaxed_emd(po[p], ps[p])
            moment_a += po[p]
            moment_b += ps[p]
        remd += pair_total / len(po)
    return {
        "content": self_similarity_loss(out, content),
        "remd": remd,
        "moment": moment_loss(moment_a, moment_b),
        "palette": palette_loss([r[:3] for r in out], [r[:3] for r in style]),
    }


# ---------------------------------------------------------------- hypercolumns (spec "Features")

def bilinear_read(fmap: list[list[list[float]]], y: float, x: float) -> list[float]:
    """Read a C×h×w map at (y, x) in map pixels, clamped to the border, with explicit floor/ceil weights."""
    ch, h, w = len(fmap), len(fmap[0]), len(fmap[0][0])
    y = min(max(y, 0.0), h - 1.0)
    x = min(max(x, 0.0), w - 1.0)
    y0, x0 = math.floor(y), math.floor(x)
    y1, x1 = min(math.ceil(y), h - 1), min(math.ceil(x), w - 1)
    wy, wx = y - y0, x - x0
    values = []
    for c in range(ch):
        v = ((1 - wy) * (1 - wx) * fmap[c][y0][x0] + (1 - wy) * wx * fmap[c][y0][x1]
             + wy * (1 - wx) * fmap[c][y1][x0] + wy * wx * fmap[c][y1][x1])
        values.append(v)
    return values


def hypercolumns(rgb, feats, coords, strides) -> list[list[float]]:
    """One image: rgb 3×H×W, feats list of C×h×w maps, coords N×2 (y, x) image pixels → N×(3+ΣC).

    RGB is read at (y, x); layer l at (y, x) / stride_l.
    """
    rgb = as_lists(rgb)
    feats = [as_lists(f) for f in feats]
    rows = []
    for y, x in as_lists(coords):
        row = bilinear_read(rgb, y, x)
        for fmap, s in zip(feats, strides):
            row += bilinear_read(fmap, y / s, x / s)
        rows.append(row)
    return rows
