"""strotss: STROTSS style transfer (Kolkin et al., CVPR 2019) as losses, a per-image optimizer and real-time stylizers."""

__version__ = "0.1.0"
