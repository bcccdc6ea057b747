"""Draw the PWA icons (192/512 px, plain and maskable) into ntc_jury/static/icons/.

    .venv/bin/python scripts/make_icons.py

A check mark on the brand blue. Maskable icons keep the mark inside the central 80 % safe
zone and fill the whole square, so launchers can crop them to any shape.
"""

from pathlib import Path

from PIL import Image, ImageDraw

BLUE = (29, 78, 137, 255)
WHITE = (255, 255, 255, 255)
OUT = Path(__file__).resolve().parent.parent / "ntc_jury" / "static" / "icons"


def draw(size: int, maskable: bool) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if maskable:
        pen.rectangle((0, 0, size, size), fill=BLUE)
        scale = 0.6
    else:
        pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=BLUE)
        scale = 0.8
    inset = size * (1 - scale) / 2
    span = size * scale
    points = [
        (inset + span * 0.15, inset + span * 0.52),
        (inset + span * 0.40, inset + span * 0.77),
        (inset + span * 0.86, inset + span * 0.26),
    ]
    pen.line(points, fill=WHITE, width=max(4, int(size * 0.09)), joint="curve")
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        draw(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
        draw(size, maskable=True).save(OUT / f"icon-maskable-{size}.png", optimize=True)
    print("icons written to", OUT)


if __name__ == "__main__":
    main()
