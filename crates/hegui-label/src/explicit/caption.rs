//! Image captions: the explicit label of GB 45438 §5.2 ◐, drawn in a corner with the bundled
//! subset of Noto Sans CJK SC Bold (`data/fonts`, SIL OFL 1.1).
//!
//! The rule is "text height ≥ 5 % of the shortest side". hegui measures the height of the
//! rendered text's glyph bounding box (not the font's em size, which overstates it: `PxScale` is
//! ascent-to-descent) and grows the scale until the measured height reaches the target. The
//! caption sits on a translucent dark box with white text, which stays legible on any picture.
//!
//! This is the only function in the crate that re-encodes media, by necessity: PNG stays PNG,
//! JPEG is re-encoded at quality 92, WebP is written lossless (the `image` crate's WebP encoder).
//! Add the caption **before** the implicit label, which signs the final pixels.

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _};
use image::{ImageFormat, Rgba, RgbaImage};

use crate::LabelError;

const FONT: &[u8] = include_bytes!("../../../../data/fonts/NotoSansSC-Bold-hegui-subset.otf");

/// The default caption text.
pub const DEFAULT_CAPTION: &str = "AI生成";

/// Where the caption goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Corner {
    /// Top left.
    TopLeft,
    /// Top right.
    TopRight,
    /// Bottom left.
    BottomLeft,
    /// Bottom right.
    #[default]
    BottomRight,
}

impl std::str::FromStr for Corner {
    type Err = LabelError;
    fn from_str(s: &str) -> Result<Self, LabelError> {
        Ok(match s {
            "top-left" => Corner::TopLeft,
            "top-right" => Corner::TopRight,
            "bottom-left" => Corner::BottomLeft,
            "bottom-right" => Corner::BottomRight,
            other => {
                return Err(LabelError::Explicit(format!(
                    "corner `{other}` is not `top-left`, `top-right`, `bottom-left` or `bottom-right`"
                )));
            }
        })
    }
}

/// A caption request.
#[derive(Clone, Debug, PartialEq)]
pub struct Caption {
    /// The text; must contain the AI and generation elements and use the bundled glyphs.
    pub text: String,
    /// The corner.
    pub corner: Corner,
    /// Minimum text height as a fraction of the shortest side (at least 0.05).
    pub min_height: f32,
}

impl Default for Caption {
    fn default() -> Caption {
        Caption {
            text: DEFAULT_CAPTION.into(),
            corner: Corner::default(),
            min_height: 0.05,
        }
    }
}

/// The result of captioning.
#[derive(Clone, Debug)]
pub struct Captioned {
    /// The re-encoded image.
    pub image: Vec<u8>,
    /// Measured height of the drawn text's bounding box, in pixels.
    pub text_height: u32,
    /// The image's shortest side, in pixels.
    pub shortest_side: u32,
}

/// Glyphs laid out at `scale`: (outlines, width, top, bottom) in pixels.
fn layout(
    font: &FontRef<'_>,
    text: &str,
    scale: PxScale,
) -> (Vec<ab_glyph::OutlinedGlyph>, f32, f32, f32) {
    let scaled = font.as_scaled(scale);
    let mut x = 0.0;
    let mut glyphs = Vec::new();
    let (mut top, mut bottom) = (f32::MAX, f32::MIN);
    for c in text.chars() {
        let id = font.glyph_id(c);
        let glyph = id.with_scale_and_position(scale, ab_glyph::point(x, scaled.ascent()));
        x += scaled.h_advance(id);
        if let Some(outlined) = font.outline_glyph(glyph) {
            let b = outlined.px_bounds();
            top = top.min(b.min.y);
            bottom = bottom.max(b.max.y);
            glyphs.push(outlined);
        }
    }
    (glyphs, x, top, bottom)
}

fn blend(pixel: &mut Rgba<u8>, color: [u8; 3], alpha: f32) {
    for (channel, target) in pixel.0.iter_mut().zip(color) {
        *channel = (f32::from(*channel) * (1.0 - alpha) + f32::from(target) * alpha).round() as u8;
    }
    pixel.0[3] = pixel.0[3].max((alpha * 255.0) as u8);
}

/// Draws the caption onto an RGBA image; returns the measured text height.
pub fn caption_rgba(image: &mut RgbaImage, caption: &Caption) -> Result<u32, LabelError> {
    if !crate::explicit::has_required_elements(&caption.text) {
        return Err(LabelError::Explicit(format!(
            "caption `{}` needs \"人工智能\" or \"AI\" and \"生成\" or \"合成\"",
            caption.text
        )));
    }
    let font = FontRef::try_from_slice(FONT)
        .map_err(|e| LabelError::Explicit(format!("bundled font: {e}")))?;
    if let Some(missing) = caption.text.chars().find(|&c| font.glyph_id(c).0 == 0) {
        return Err(LabelError::Explicit(format!(
            "character {missing:?} is not in the bundled font subset"
        )));
    }
    let (width, height) = image.dimensions();
    let shortest = width.min(height);
    let target = (caption.min_height.max(0.05) * shortest as f32)
        .ceil()
        .max(8.0);
    // Grow the scale until the measured glyph box is tall enough.
    let mut px = target;
    let (glyphs, text_width, top, bottom) = loop {
        let laid = layout(&font, &caption.text, PxScale::from(px));
        if laid.3 - laid.2 >= target || px > target * 4.0 {
            break laid;
        }
        px += 1.0;
    };
    let text_height = (bottom - top).ceil() as u32;
    let pad = (target * 0.3).ceil() as u32;
    let box_w = text_width.ceil() as u32 + 2 * pad;
    let box_h = text_height + 2 * pad;
    if box_w > width || box_h > height {
        return Err(LabelError::Explicit(format!(
            "a caption of {box_w}×{box_h} px does not fit a {width}×{height} image"
        )));
    }
    let margin = pad.min(width - box_w).min(height - box_h);
    let x0 = match caption.corner {
        Corner::TopLeft | Corner::BottomLeft => margin,
        Corner::TopRight | Corner::BottomRight => width - box_w - margin,
    };
    let y0 = match caption.corner {
        Corner::TopLeft | Corner::TopRight => margin,
        Corner::BottomLeft | Corner::BottomRight => height - box_h - margin,
    };
    for y in y0..y0 + box_h {
        for x in x0..x0 + box_w {
            blend(image.get_pixel_mut(x, y), [0, 0, 0], 0.6);
        }
    }
    let dx = x0 as f32 + pad as f32;
    let dy = y0 as f32 + pad as f32 - top;
    for glyph in &glyphs {
        let b = glyph.px_bounds();
        glyph.draw(|gx, gy, coverage| {
            let x = (dx + b.min.x) as i64 + i64::from(gx);
            let y = (dy + b.min.y) as i64 + i64::from(gy);
            if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y))
                && x < width
                && y < height
            {
                blend(
                    image.get_pixel_mut(x, y),
                    [255, 255, 255],
                    coverage.clamp(0.0, 1.0),
                );
            }
        });
    }
    Ok(text_height)
}

/// Decodes a PNG, JPEG or WebP image, draws the caption, and re-encodes it in the same format.
pub fn caption_image(bytes: &[u8], caption: &Caption) -> Result<Captioned, LabelError> {
    let format = image::guess_format(bytes)
        .map_err(|e| LabelError::Explicit(format!("not an image: {e}")))?;
    let decoded = image::load_from_memory_with_format(bytes, format)
        .map_err(|e| LabelError::Explicit(format!("cannot decode the image: {e}")))?;
    let had_alpha = decoded.color().has_alpha();
    let mut rgba = decoded.to_rgba8();
    let text_height = caption_rgba(&mut rgba, caption)?;
    let shortest_side = rgba.width().min(rgba.height());
    let mut out = std::io::Cursor::new(Vec::new());
    let encoded = match format {
        ImageFormat::Jpeg => {
            let rgb = image::DynamicImage::ImageRgba8(rgba).to_rgb8();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92).encode_image(&rgb)
        }
        ImageFormat::Png if !had_alpha => image::DynamicImage::ImageRgba8(rgba)
            .to_rgb8()
            .write_to(&mut out, format),
        ImageFormat::Png | ImageFormat::WebP => rgba.write_to(&mut out, format),
        other => {
            return Err(LabelError::Explicit(format!(
                "captions support PNG, JPEG and WebP, not {other:?}"
            )));
        }
    };
    encoded.map_err(|e| LabelError::Explicit(format!("cannot encode the image: {e}")))?;
    Ok(Captioned {
        image: out.into_inner(),
        text_height,
        shortest_side,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caption_is_at_least_five_percent_and_in_the_corner() {
        for (w, h) in [(400u32, 300u32), (120, 900), (1000, 1000)] {
            let mut image = RgbaImage::from_pixel(w, h, Rgba([200, 200, 200, 255]));
            let height = caption_rgba(&mut image, &Caption::default()).unwrap();
            assert!(height as f32 >= 0.05 * w.min(h) as f32, "{w}x{h}: {height}");
            // Only the bottom-right quadrant changed.
            let grey = Rgba([200, 200, 200, 255]);
            let changed = |x0: u32, y0: u32| {
                (x0..x0 + w / 2).any(|x| (y0..y0 + h / 2).any(|y| image.get_pixel(x, y) != &grey))
            };
            assert!(changed(w / 2, h / 2), "{w}x{h}");
            assert!(
                !changed(0, 0) && !changed(w / 2, 0) && !changed(0, h / 2),
                "{w}x{h}"
            );
        }
        let mut tiny = RgbaImage::new(20, 20);
        assert!(caption_rgba(&mut tiny, &Caption::default()).is_err());
        let bad = Caption {
            text: "机器画的".into(),
            ..Caption::default()
        };
        assert!(caption_rgba(&mut RgbaImage::new(400, 400), &bad).is_err());
        let missing = Caption {
            text: "AI生成的猫".into(),
            ..Caption::default()
        };
        assert!(caption_rgba(&mut RgbaImage::new(400, 400), &missing).is_err());
    }
}
