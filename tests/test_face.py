"""Tests of the cartoon face of chapter 8 (mmsa_helpers.face)."""
import re
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402

from mmsa_helpers.face import DRAWN_AUS, animate, draw_face, face_geometry, frame_strip, normalize_aus  # noqa: E402
from mmsa_helpers.synthetic.vision import VISION_FEATURES  # noqa: E402


def corners_y(aus):
    return face_geometry(aus)["mouth_corners"][:, 1]


@pytest.mark.parametrize("value", [0.0, 5.0, 12.0, -3.0])
@pytest.mark.parametrize("pose", [(0, 0, 0), (-45, 60, -30), (45, -60, 30)])
def test_draws_for_extreme_values(value, pose):
    aus = {f"AU{k:02d}_r": value for k in DRAWN_AUS}
    fig, ax = plt.subplots()
    draw_face(ax, aus, pose, title="x")
    for name, pts in face_geometry(aus, pose).items():
        assert pts.ndim == 2 and pts.shape[1] == 2, name
    plt.close(fig)


def test_normalize_aus_accepts_openface_and_short_names():
    assert normalize_aus({"AU12_r": 2.5, "AU6": 5, "AU04": 10, "pose_yaw": 3}) == {12: 0.5, 6: 1.0, 4: 1.0}


def test_smile_lifts_and_sadness_lowers_mouth_corners():
    neutral, smile, sad = corners_y({}), corners_y({"AU12_r": 4}), corners_y({"AU15_r": 4})
    assert np.all(smile > neutral + 0.1) and np.all(sad < neutral - 0.1)
    # a smile also widens the mouth
    width = lambda aus: np.ptp(face_geometry(aus)["mouth_corners"][:, 0])  # noqa: E731
    assert width({"AU12_r": 4}) > width({})


def test_brows_lids_and_jaw_move_the_right_way():
    g0 = face_geometry({})
    raised = face_geometry({"AU01_r": 5})
    lowered = face_geometry({"AU04_r": 5})
    inner = lambda g: g["brow_left"][0, 1]  # noqa: E731
    assert inner(raised) > inner(g0) > inner(lowered)
    opening = lambda g: g["eye_left_upper"][:, 1].max() - g["eye_left_lower"][:, 1].min()  # noqa: E731
    assert opening(face_geometry({"AU06_r": 5})) < opening(g0)
    assert opening(face_geometry({"AU07_r": 5})) < opening(g0)
    gap = lambda g: g["mouth_upper"][:, 1].min() - g["mouth_lower"][:, 1].min()  # noqa: E731
    assert gap(face_geometry({"AU26_r": 5})) > gap(face_geometry({"AU25_r": 5})) > gap(g0)


def test_pose_turns_and_tilts_the_face():
    g0 = face_geometry({})
    nose = lambda g: g["nose"][:, 0].mean()  # noqa: E731
    assert nose(face_geometry({}, (0, 30, 0))) > nose(g0) + 0.1
    assert nose(face_geometry({}, (0, -30, 0))) < nose(g0) - 0.1
    assert face_geometry({}, (20, 0, 0))["nose"][:, 1].mean() < g0["nose"][:, 1].mean()
    rolled = face_geometry({}, (0, 0, 20))
    assert rolled["eye_left_upper"][0, 1] != pytest.approx(rolled["eye_right_upper"][-1, 1])


def _utterance(frames=30):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 3, (frames, len(VISION_FEATURES)))
    x[:, 13:] = rng.normal(0, 5, (frames, 3))
    return x


@pytest.mark.parametrize("n", [1, 4, 8])
def test_frame_strip_has_one_axis_per_face(n):
    fig = frame_strip(_utterance(), VISION_FEATURES, np.arange(30) / 15, n=n)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == n
    plt.close(fig)


def test_frame_strip_without_pose_features():
    aus_only = [f for f in VISION_FEATURES if f.startswith("AU")]
    fig = frame_strip(_utterance()[:, :len(aus_only)], aus_only, n=3)
    assert len(fig.axes) == 3
    plt.close(fig)


def test_animate_returns_funcanimation():
    anim = animate(_utterance(8), VISION_FEATURES, step=2)
    assert isinstance(anim, FuncAnimation)
    html = anim.to_jshtml()
    import re

    frames = re.findall(r'frames\[(\d+)\] = "data:image/png;base64,([^"]+)"', html)
    assert [int(i) for i, _ in frames] == [0, 1, 2, 3]            # 8 frames, every 2nd drawn
    assert len({png for _, png in frames}) == 4                    # the face moves: no two frames alike
    assert html.count("<img") == 1                                 # one player image the frames go into
    plt.close(anim._fig)


def test_animation_html_links_nothing_from_a_cdn():
    import matplotlib.animation as mpl_animation
    import matplotlib.pyplot as plt

    from mmsa_helpers.face import animation_html

    fig, ax = plt.subplots()
    (line,) = ax.plot([0, 1], [0, 1])
    anim = mpl_animation.FuncAnimation(fig, lambda i: line.set_ydata([0, i]), frames=2)
    assert "font-awesome" in anim.to_jshtml()          # matplotlib's own player links the CDN
    html = animation_html(anim)
    plt.close(fig)
    assert "font-awesome" not in html and "http" not in html.split("<script", 1)[0]
    assert 'class="fa fa-play"' in html                # the buttons keep their icon classes
    assert re.search(r'<img id="_anim_img\w+" alt="animation frames">', html)   # the frame image has an alt text
    assert 'alt="a &lt;b&gt; face"' in animation_html(anim, alt="a <b> face")
