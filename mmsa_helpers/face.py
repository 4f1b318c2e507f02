"""A cartoon face drawn from facial action units and head pose (chapter 8, "Vision").

Facial features in MMSA pickles are numbers: action-unit (AU) intensities of the
Facial Action Coding System on OpenFace's 0-5 scale, and head pose in degrees.
This module turns them back into a face so that a reader sees what the numbers
mean. It is a drawing, not a face model: each AU moves one or two landmarks of a
schematic face in the direction FACS describes.

- :func:`face_geometry` -- the landmarks of the face as named ``(N, 2)`` arrays
- :func:`draw_face`     -- draw them on a matplotlib axis
- :func:`frame_strip`   -- a row of faces sampled from one utterance
- :func:`animate`       -- a ``FuncAnimation`` of one utterance, face and AU curves

>>> fig, ax = plt.subplots()
>>> draw_face(ax, {"AU06_r": 3, "AU12_r": 4}, pose=(0, 10, 0))   # a Duchenne smile, head turned
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np

#: Action units the drawing understands (FACS numbers).
DRAWN_AUS = (1, 2, 4, 6, 7, 9, 10, 12, 14, 15, 17, 25, 26)
_AU_NAME = re.compile(r"^AU0*(\d+)(?:_r)?$", re.IGNORECASE)
_POSE_NAMES = ("pose_pitch", "pose_yaw", "pose_roll")


def normalize_aus(aus: Mapping[str, float]) -> dict[int, float]:
    """``{"AU12_r": 2.5, "AU6": 1}`` -> ``{12: 0.5, 6: 0.2}``: AU number to intensity in [0, 1] (0-5 scale / 5)."""
    out = {}
    for key, value in aus.items():
        m = _AU_NAME.match(str(key))
        if m:
            out[int(m.group(1))] = float(np.clip(float(value) / 5.0, 0.0, 1.0))
    return out


def _curve(p0, p1, p2, n: int = 16) -> np.ndarray:
    """Quadratic Bezier curve from ``p0`` to ``p2`` pulled towards ``p1``, shape ``(n, 2)``."""
    t = np.linspace(0, 1, n)[:, None]
    p0, p1, p2 = (np.asarray(p, dtype=float) for p in (p0, p1, p2))
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t ** 2 * p2


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 60) -> np.ndarray:
    a = np.linspace(0, 2 * np.pi, n)
    return np.column_stack([cx + rx * np.cos(a), cy + ry * np.sin(a)])


def _features(s: Mapping[int, float]) -> dict[str, np.ndarray]:
    """Landmarks of a frontal face (head centred at 0, about 2 units tall) for AU intensities ``s`` in [0, 1]."""
    a = lambda k: s.get(k, 0.0)  # noqa: E731
    g: dict[str, np.ndarray] = {}
    for side, sign in (("left", -1), ("right", 1)):
        # brows: AU1 raises the inner end, AU2 the outer end, AU4 pulls both down and together
        inner = np.array([sign * (0.14 - 0.05 * a(4)), 0.50 + 0.22 * a(1) - 0.16 * a(4)])
        outer = np.array([sign * 0.55, 0.48 + 0.20 * a(2) - 0.06 * a(4)])
        middle = (inner + outer) / 2 + [0, 0.06 + 0.04 * a(2) - 0.04 * a(4)]
        g[f"brow_{side}"] = _curve(inner, middle, outer, 8)
        # eyes: AU6 (cheek raiser) pushes the lower lid up, AU7 (lid tightener) narrows both lids
        cx, cy = sign * 0.34, 0.22
        top = 0.13 * (1 - 0.45 * a(7) - 0.15 * a(6)) - 0.04 * a(4)
        bottom = 0.09 * (1 - 0.75 * a(6) - 0.45 * a(7))
        g[f"eye_{side}_upper"] = _curve([cx - 0.15, cy], [cx, cy + 2 * top], [cx + 0.15, cy], 12)
        g[f"eye_{side}_lower"] = _curve([cx - 0.15, cy], [cx, cy - 2 * bottom], [cx + 0.15, cy], 12)
        g[f"pupil_{side}"] = np.array([[cx, cy + 0.35 * (top - bottom)]])
        # cheeks bulge under the eyes with AU6
        g[f"cheek_{side}"] = _curve([cx - 0.13, cy - 0.20 + 0.04 * a(6)], [cx, cy - 0.13 - 0.02 * a(6) + 0.09 * a(6)],
                                    [cx + 0.13, cy - 0.20 + 0.04 * a(6)], 8)
    # nose; AU9 wrinkles the bridge and lifts the tip, AU10 lifts the wings
    lift = 0.05 * a(9) + 0.03 * a(10)
    g["nose"] = np.array([[-0.02, 0.22], [-0.07, -0.14 + lift], [0.0, -0.19 + lift], [0.10, -0.14 + lift]])
    g["wrinkles"] = np.array([[-0.08, 0.10], [0.08, 0.10], [np.nan, np.nan], [-0.07, 0.04], [0.07, 0.04]])
    # mouth: corners up with AU12 (and wider), down with AU15, pulled in and tight with AU14
    half_width = 0.30 + 0.08 * a(12) - 0.04 * a(14) - 0.02 * a(15)
    corner_y = -0.52 + 0.22 * a(12) - 0.20 * a(15) + 0.02 * a(14)
    gap = 0.05 * a(25) + 0.16 * a(26)                      # lips part, jaw drops
    upper_mid = -0.50 + 0.07 * a(10) + 0.3 * gap / 2
    lower_mid = -0.54 - gap + 0.05 * a(17) * (1 - a(26))   # AU17 pushes the lower lip up
    smile_pull = 0.06 * a(12) - 0.05 * a(15)               # the lip line bends with the corners
    left, right = np.array([-half_width, corner_y]), np.array([half_width, corner_y])
    g["mouth_upper"] = _curve(left, [0, 2 * upper_mid - corner_y - smile_pull], right, 20)
    g["mouth_lower"] = _curve(left, [0, 2 * lower_mid - corner_y - smile_pull], right, 20)
    g["mouth_corners"] = np.vstack([left, right])
    g["dimples"] = np.array([[-half_width - 0.05, corner_y + 0.04], [-half_width - 0.05, corner_y - 0.04], [np.nan, np.nan],
                             [half_width + 0.05, corner_y + 0.04], [half_width + 0.05, corner_y - 0.04]])
    # chin: the jaw drops with AU26; AU17 wrinkles the chin boss
    chin_y = -0.98 - 0.16 * a(26)
    g["chin"] = _curve([-0.14, -0.80 - 0.1 * a(26) + 0.04 * a(17)], [0, -0.74 - 0.1 * a(26) + 0.08 * a(17)],
                       [0.14, -0.80 - 0.1 * a(26) + 0.04 * a(17)], 8)
    head = _ellipse(0, 0, 0.78, 1.0, 80)
    head[:, 1] = np.where(head[:, 1] < 0, head[:, 1] * (-chin_y), head[:, 1])   # a longer lower face when the jaw drops
    g["head"] = head
    g["ear_left"] = _ellipse(-0.80, 0.12, 0.07, 0.16, 20)
    g["ear_right"] = _ellipse(0.80, 0.12, 0.07, 0.16, 20)
    return g


def _apply_pose(g: dict[str, np.ndarray], pitch: float, yaw: float, roll: float) -> dict[str, np.ndarray]:
    """Turn the head: yaw moves inner features sideways on a sphere, pitch up or down, roll rotates everything."""
    p, y, r = np.radians([pitch, yaw, roll])
    out = {}
    for name, pts in g.items():
        pts = pts.astype(float).copy()
        if name != "head":
            depth = 0.0 if name.startswith("ear") else 0.55           # features lie on a sphere in front of the centre
            x, z = pts[:, 0], depth * np.ones(len(pts))
            pts[:, 0] = x * np.cos(y) + z * np.sin(y)
            yy = pts[:, 1]
            # OpenFace: positive pitch looks down, so features move down and squeeze
            pts[:, 1] = yy * np.cos(p) - z * np.sin(p)
            if name.startswith("ear"):
                pts[:, 0] = np.sign(pts[:, 0].mean()) * (0.80 * np.cos(y)) + (pts[:, 0] - pts[:, 0].mean())
        c, s = np.cos(r), np.sin(r)
        out[name] = pts @ np.array([[c, s], [-s, c]])
    return out


def face_geometry(aus: Mapping[str, float], pose: Sequence[float] = (0.0, 0.0, 0.0)) -> dict[str, np.ndarray]:
    """Landmarks of the cartoon face for AU intensities (0-5 scale) and head pose ``(pitch, yaw, roll)`` in degrees.

    Returns named ``(N, 2)`` arrays in face coordinates (y up): ``head``, ``brow_left``,
    ``eye_left_upper`` ..., ``mouth_upper``, ``mouth_lower``, ``mouth_corners`` (left, right), ...
    """
    pitch, yaw, roll = (float(v) for v in pose)
    return _apply_pose(_features(normalize_aus(aus)), pitch, yaw, roll)


def draw_face(ax, aus: Mapping[str, float], pose: Sequence[float] = (0.0, 0.0, 0.0), *, title: str | None = None,
              skin: str = "#f6d7b8", ink: str = "#3a2a20"):
    """Draw the cartoon face for ``aus`` (e.g. ``{"AU12_r": 3}``) and ``pose`` on ``ax``; returns ``ax``."""
    s = normalize_aus(aus)
    g = face_geometry(aus, pose)
    ax.fill(*g["ear_left"].T, color=skin, ec=ink, lw=1, zorder=1)
    ax.fill(*g["ear_right"].T, color=skin, ec=ink, lw=1, zorder=1)
    ax.fill(*g["head"].T, color=skin, ec=ink, lw=1.5, zorder=2)
    for side in ("left", "right"):
        ax.plot(*g[f"brow_{side}"].T, color=ink, lw=3, solid_capstyle="round", zorder=4)
        eye = np.vstack([g[f"eye_{side}_upper"], g[f"eye_{side}_lower"][::-1]])
        ax.fill(*eye.T, color="white", ec=ink, lw=1.2, zorder=3)
        ax.plot(*g[f"pupil_{side}"].T, "o", color=ink, ms=4, zorder=4)
        if s.get(6, 0) > 0.1:
            ax.plot(*g[f"cheek_{side}"].T, color=ink, lw=0.8, alpha=min(1.0, 1.5 * s[6]), zorder=3)
    ax.plot(*g["nose"].T, color=ink, lw=1.2, zorder=3)
    if s.get(9, 0) > 0.1:
        ax.plot(*g["wrinkles"].T, color=ink, lw=0.9, alpha=min(1.0, 1.5 * s[9]), zorder=3)
    mouth = np.vstack([g["mouth_upper"], g["mouth_lower"][::-1]])
    ax.fill(*mouth.T, color="#7a2e2e", zorder=3)
    ax.plot(*g["mouth_upper"].T, color="#a0413c", lw=2.2, solid_capstyle="round", zorder=4)
    ax.plot(*g["mouth_lower"].T, color="#a0413c", lw=2.2, solid_capstyle="round", zorder=4)
    if s.get(14, 0) > 0.1:
        ax.plot(*g["dimples"].T, color=ink, lw=1, alpha=min(1.0, 1.5 * s[14]), zorder=3)
    if s.get(17, 0) > 0.1:
        ax.plot(*g["chin"].T, color=ink, lw=0.9, alpha=min(1.0, 1.5 * s[17]), zorder=3)
    ax.set_xlim(-1.15, 1.15)
    ax.set_ylim(-1.35, 1.15)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def frame_to_face(frame: Sequence[float], feature_names: Sequence[str]) -> tuple[dict[str, float], tuple[float, float, float]]:
    """Split one frame of features into ``(aus, pose)``; pose features missing from ``feature_names`` count 0."""
    values = dict(zip(feature_names, np.asarray(frame, dtype=float)))
    aus = {k: v for k, v in values.items() if _AU_NAME.match(str(k))}
    pose = tuple(float(values.get(k, 0.0)) for k in _POSE_NAMES)
    return aus, pose


def frame_strip(vision_frames: np.ndarray, feature_names: Sequence[str], times: Sequence[float] | None = None,
                n: int = 8, fps: float = 15.0, panel_size: float = 1.4):
    """A row of ``n`` faces at evenly spaced frames of one utterance (shape ``(frames, features)``); returns the Figure."""
    import matplotlib.pyplot as plt

    x = np.asarray(vision_frames, dtype=float)
    times = np.arange(len(x)) / fps if times is None else np.asarray(times, dtype=float)
    picks = np.linspace(0, len(x) - 1, n).round().astype(int)
    fig, axes = plt.subplots(1, n, figsize=(panel_size * n, panel_size * 1.15), squeeze=False)
    for ax, i in zip(axes[0], picks):
        aus, pose = frame_to_face(x[i], feature_names)
        draw_face(ax, aus, pose, title=f"{times[i]:.1f} s")
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.85, wspace=0.05)
    return fig


def animate(vision_frames: np.ndarray, feature_names: Sequence[str], times: Sequence[float] | None = None,
            curves: Sequence[str] = ("AU12_r", "AU06_r", "AU04_r", "AU15_r"), fps: float = 15.0, step: int = 2,
            figsize=(7.0, 2.6)):
    """Animate one utterance: the face on the left, AU curves with a moving cursor on the right.

    Every ``step``-th frame is drawn (``step=2`` halves the file size of ``to_jshtml()``).
    Returns a :class:`matplotlib.animation.FuncAnimation`; its figure is ``anim._fig``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    x = np.asarray(vision_frames, dtype=float)
    times = np.arange(len(x)) / fps if times is None else np.asarray(times, dtype=float)
    fig, (ax_face, ax_curve) = plt.subplots(1, 2, figsize=figsize, gridspec_kw={"width_ratios": [1, 2.2]})
    names = list(feature_names)
    for name in curves:
        if name in names:
            ax_curve.plot(times, x[:, names.index(name)], lw=1.3, label=name)
    ax_curve.set(xlabel="time (s)", ylabel="intensity (0-5)", xlim=(times[0], times[-1]))
    # the legend sits above the plot, where it cannot hide a curve (inside, it covered AU12's peak)
    ax_curve.legend(fontsize=8, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=len(curves), frameon=False,
                    borderaxespad=0.2, handlelength=1.5, columnspacing=1.0)
    cursor = ax_curve.axvline(times[0], color="k", lw=1)
    frames = list(range(0, len(x), max(1, int(step))))

    def update(i):
        ax_face.clear()
        aus, pose = frame_to_face(x[i], names)
        draw_face(ax_face, aus, pose, title=f"{times[i]:.2f} s")
        cursor.set_xdata([times[i], times[i]])
        return [cursor]

    fig.tight_layout()
    return FuncAnimation(fig, update, frames=frames, interval=1000 * max(1, int(step)) / fps, blit=False)


__all__ = ["DRAWN_AUS", "normalize_aus", "face_geometry", "draw_face", "frame_to_face", "frame_strip", "animate"]


def animation_html(anim, default_mode: str = "loop", alt: str = "animation frames") -> str:
    """``anim.to_jshtml()`` without the Font Awesome stylesheet it links from a CDN, and with an
    ``alt`` text on the frame image (matplotlib's player leaves it without one).

    The player's buttons use Font Awesome icon classes; the book's theme ships
    those icons with the website, so the page works offline without the link.
    """
    import html as html_lib
    import re

    out = anim.to_jshtml(default_mode=default_mode)
    out = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*"\s*/?>\s*', "", out)
    return re.sub(r'<img id="(_anim_img\w+)">', lambda m: f'<img id="{m.group(1)}" alt="{html_lib.escape(alt)}">', out)
