"""Plot helpers that the lessons call directly (wgan_lessons.plots), checked on the artists they draw."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch.testing import assert_close  # noqa: E402

from wgan_lessons.plots import plot_image_grid  # noqa: E402


def test_image_grid_places_each_image_and_its_label_under_it():
    images = torch.linspace(-1, 1, 3).reshape(3, 1, 1, 1).expand(3, 1, 2, 2)  # (3, 1, 2, 2): black, grey, white
    fig, ax = plt.subplots()
    plot_image_grid(ax, images, nrow=3, labels=["a", "b", "c"])
    grid = torch.as_tensor(ax.images[0].get_array().data, dtype=torch.float32)  # (2 + 1, 3 * (2 + 1)) with gaps
    assert grid.shape == (3, 9)
    assert_close(grid[:2, [0, 3, 6]], torch.tensor([[0.0, 0.5, 1.0]] * 2))  # (x + 1) / 2, tile by tile
    assert_close(grid[:, [2, 5, 8]], torch.ones(3, 3))  # the white gaps between the tiles
    texts = [(t.get_text(), *t.get_position()) for t in ax.texts]
    assert texts == [("a", 0.5, 1.5), ("b", 3.5, 1.5), ("c", 6.5, 1.5)]  # centred under each tile
    plt.close(fig)


def test_image_grid_explains_bad_input():
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match=r"one per image"):
        plot_image_grid(ax, torch.zeros(4, 1, 2, 2), labels=["only", "three", "labels"])
    with pytest.raises(ValueError, match=r"\(B, C, H, W\), got shape \(2, 2\)"):
        plot_image_grid(ax, torch.zeros(2, 2))
    plt.close(fig)


def test_the_outside_the_view_note_sits_on_a_white_box_over_the_samples():
    from wgan_lessons.plots import plot_samples

    fig, ax = plt.subplots()
    fake = torch.tensor([[0.0, 0.0], [50.0, 0.0], [0.0, -50.0]])  # two of three far outside any view
    plot_samples(ax, fake=fake, lim=2.0)
    (note,) = [t for t in ax.texts if "outside this view" in t.get_text()]
    assert note.get_text().startswith("2 of 3 generated samples")
    box = note.get_bbox_patch()
    assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0) and note.get_zorder() > 2
    plt.close(fig)


def test_the_labs_outside_the_view_note_counts_the_samples_and_sits_on_a_white_box():
    from wgan_lessons.plots import LiveView

    view = LiveView(8)
    real = torch.zeros(4, 2)
    fake = torch.tensor([[0.0, 0.0], [50.0, 0.0], [0.0, -50.0], [1.0, 1.0]])  # two of four outside the view (lim 2)
    view.update(real.numpy(), fake.numpy(), lambda x: x.sum(1), lambda x: torch.zeros_like(x), {"step": []},
                {"step": [], "exact_w1": [], "modes": [], "hq_fraction": [], "counts": []}, "wgan-gp",
                show_w_estimate=True)
    assert view.outside.get_text() == "2 of 4 generated samples lie outside this view"
    box = view.outside.get_bbox_patch()
    assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0) and view.outside.get_zorder() > 2
    view.draw(full=True)  # the boxed note draws in a full frame and over the saved background
    view.draw(full=False)
