//! A drawn chart (RGB pixels) as a small PNG: indexed colour (a chart is a few
//! flat colours and their anti-aliased edges, so 256 colours lose nothing a reader
//! sees) and the best compression, which is what keeps a chart under 20 KB.

use std::collections::HashMap;

/// Why a chart could not be encoded.
#[derive(Debug, thiserror::Error)]
#[error("cannot encode a chart as PNG: {0}")]
pub struct PngError(#[from] png::EncodingError);

/// `rgb` (3 bytes a pixel, `width` × `height`) as an indexed-colour PNG.
pub fn encode(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PngError> {
    let (palette, indices) = quantize(rgb);
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(palette.concat());
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&indices)?;
    writer.finish()?;
    Ok(out)
}

/// The 256 most used colours as the palette, every pixel as the index of its own
/// colour or, past those, the nearest one.
fn quantize(rgb: &[u8]) -> (Vec<[u8; 3]>, Vec<u8>) {
    let pixels = || rgb.chunks_exact(3).map(|p| [p[0], p[1], p[2]]);
    // Counted by runs: a chart is mostly long runs of its background.
    let mut counts: HashMap<[u8; 3], u32> = HashMap::new();
    let mut run: Option<([u8; 3], u32)> = None;
    for p in pixels() {
        match &mut run {
            Some((colour, n)) if *colour == p => *n += 1,
            _ => {
                if let Some((colour, n)) = run.replace((p, 1)) {
                    *counts.entry(colour).or_default() += n;
                }
            }
        }
    }
    if let Some((colour, n)) = run {
        *counts.entry(colour).or_default() += n;
    }
    let mut by_use: Vec<([u8; 3], u32)> = counts.into_iter().collect();
    // Most used first; ties by colour so the same chart gives the same bytes.
    by_use.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let palette: Vec<[u8; 3]> = by_use.iter().take(256).map(|(c, _)| *c).collect();
    let mut index: HashMap<[u8; 3], u8> = palette
        .iter()
        .enumerate()
        .map(|(i, c)| (*c, i as u8))
        .collect();
    let mut last = ([0u8; 3], None);
    let indices = pixels()
        .map(|p| match last {
            (colour, Some(i)) if colour == p => i,
            _ => {
                let i = *index.entry(p).or_insert_with(|| nearest(&palette, p));
                last = (p, Some(i));
                i
            }
        })
        .collect();
    (palette, indices)
}

fn nearest(palette: &[[u8; 3]], p: [u8; 3]) -> u8 {
    let distance =
        |c: &[u8; 3]| -> i32 { (0..3).map(|i| (c[i] as i32 - p[i] as i32).pow(2)).sum() };
    (0..palette.len())
        .min_by_key(|&i| distance(&palette[i]))
        .unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_come_back_from_the_png_as_they_were() {
        // Two colours in stripes, plus a gradient of 300 greys (more than a palette).
        let (w, h) = (300u32, 4u32);
        let mut rgb = Vec::new();
        for y in 0..h {
            for x in 0..w {
                let grey = (x * 255 / (w - 1)) as u8;
                let px = match y {
                    0 => [255, 255, 255],
                    1 => [37, 99, 235],
                    _ => [grey, grey, grey],
                };
                rgb.extend_from_slice(&px);
            }
        }
        let bytes = encode(&rgb, w, h).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().color_type, png::ColorType::Indexed);
        let palette = reader.info().palette.clone().unwrap();
        let mut indices = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut indices).unwrap();
        let colour = |i: usize| {
            let at = indices[i] as usize * 3;
            [palette[at], palette[at + 1], palette[at + 2]]
        };
        assert_eq!(colour(5), [255, 255, 255]);
        assert_eq!(colour(w as usize + 5), [37, 99, 235]);
        // A grey past the palette's 256 is drawn with the nearest, at most one step off.
        for x in 0..w as usize {
            let got = colour(2 * w as usize + x)[0] as i32;
            let want = (x as u32 * 255 / (w - 1)) as i32;
            assert!((got - want).abs() <= 1, "x {x}: {got} for {want}");
        }
    }
}
