"""QR codes drawn as inline SVG: no image request, nothing for the CSP to allow."""

import qrcode
import qrcode.image.svg


def qr_svg(text: str, *, box_size: int = 10) -> str:
    """Return ``text`` as an SVG QR code."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=box_size)
    return image.to_string(encoding="unicode")
