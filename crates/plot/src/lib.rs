//! `nivesh-plot`: PNG charts drawn the same on every machine. plotters draws the shapes; its
//! released font support needs the system's fontconfig and freetype libraries, so text goes
//! through [`GlyphBackend`]: plotters' bitmap backend with text rasterised by `ab_glyph` from
//! the DejaVu Sans font shipped in `data/fonts` (licence beside it). Nothing to install, the
//! same pixels everywhere — which is what lets a test pin a plot's digest.

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
pub use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};

static FONT_BYTES: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");

/// Width of every chart, pixels.
pub const WIDTH: u32 = 900;
/// Height of every chart, pixels.
pub const HEIGHT: u32 = 700;

/// A drawing area to draw a chart on.
pub type Area<'a> = DrawingArea<GlyphBackend<'a>, plotters::coord::Shift>;

pub fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a plot: {e:?}")
}

/// Draw on a white RGB canvas with `draw`, then encode it as PNG.
pub fn render(draw: impl FnOnce(&Area<'_>) -> anyhow::Result<()>) -> anyhow::Result<Vec<u8>> {
    let mut rgb = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let font = FontRef::try_from_slice(FONT_BYTES).map_err(err)?;
        let backend = GlyphBackend { inner: BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)), font };
        let root = backend.into_drawing_area();
        draw(&root)?;
        root.present().map_err(err)?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(png)
}

/// One series of an overlaid histogram.
pub struct Series<'a> {
    pub label: &'a str,
    /// Counts per bin (drawn as shares of the series' total).
    pub counts: &'a [f64],
    pub color: RGBColor,
}

/// Histograms over the same `edges`, each as the share of its total per bin (so a rare class
/// is visible beside a common one), overlaid half-transparent, with an optional vertical line.
pub fn overlaid_histogram(
    caption: &str,
    x_desc: &str,
    edges: &[f64],
    series: &[Series<'_>],
    line: Option<(f64, String)>,
) -> anyhow::Result<Vec<u8>> {
    let bins = edges.len().saturating_sub(1);
    anyhow::ensure!(bins > 0 && series.iter().all(|s| s.counts.len() == bins), "malformed histogram");
    let (lo, hi) = (edges[0], edges[bins].max(edges[0] + 1e-9));
    let share = |v: &[f64]| {
        let total: f64 = v.iter().sum::<f64>().max(1.0);
        v.iter().map(|x| x / total).collect::<Vec<_>>()
    };
    let shares: Vec<Vec<f64>> = series.iter().map(|s| share(s.counts)).collect();
    let top = shares.iter().flatten().copied().fold(0.0f64, f64::max).max(1e-9) * 1.05;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("share of rows")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        for (s, values) in series.iter().zip(&shares) {
            let color = s.color.mix(0.5);
            chart
                .draw_series(
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| Rectangle::new([(edges[i], 0.0), (edges[i + 1], v)], color.filled())),
                )
                .map_err(err)?
                .label(s.label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        }
        if let Some((t, label)) = line.filter(|(t, _)| (lo..=hi).contains(t)) {
            chart
                .draw_series(LineSeries::new([(t, 0.0), (t, top)], BLACK.stroke_width(2)))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLACK.stroke_width(2)));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        Ok(())
    })
}

/// plotters' bitmap backend with text drawn by `ab_glyph` (see the module comment).
pub struct GlyphBackend<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

type BackendResult<E> = Result<(), DrawingErrorKind<E>>;

impl GlyphBackend<'_> {
    /// Width and height of `text` at `size` pixels, unrotated, and the ascent.
    fn measure(&self, text: &str, size: f64) -> (f32, f32, f32) {
        let font = self.font.as_scaled(PxScale::from(size as f32));
        let mut width = 0.0;
        let mut prev = None;
        for c in text.chars() {
            let id = font.glyph_id(c);
            if let Some(p) = prev {
                width += font.kern(p, id);
            }
            width += font.h_advance(id);
            prev = Some(id);
        }
        (width, font.ascent() - font.descent(), font.ascent())
    }
}

impl<'a> DrawingBackend for GlyphBackend<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }
    fn ensure_prepared(&mut self) -> BackendResult<Self::ErrorType> {
        self.inner.ensure_prepared()
    }
    fn present(&mut self) -> BackendResult<Self::ErrorType> {
        self.inner.present()
    }
    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> BackendResult<Self::ErrorType> {
        self.inner.draw_pixel(point, color)
    }
    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.draw_line(from, to, style)
    }
    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.draw_path(path, style)
    }
    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> BackendResult<Self::ErrorType> {
        self.inner.fill_polygon(vert, style)
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let (w, h, _) = self.measure(text, style.size());
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> BackendResult<Self::ErrorType> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let size = style.size() as f32;
        let (width, height, ascent) = self.measure(text, style.size());
        // offset of the text box's top-left corner from the anchor, before rotation
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.0,
            VPos::Center => -height / 2.0,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        let scaled = self.font.as_scaled(PxScale::from(size));
        let mut caret = 0.0f32;
        let mut prev = None;
        let mut pixels: Vec<(i32, i32, f32)> = Vec::new();
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            let glyph = id.with_scale_and_position(size, ab_glyph::point(caret + dx, ascent + dy));
            caret += scaled.h_advance(id);
            prev = Some(id);
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                outline.draw(|gx, gy, coverage| {
                    let x = bounds.min.x as i32 + gx as i32;
                    let y = bounds.min.y as i32 + gy as i32;
                    pixels.push((x, y, coverage));
                });
            }
        }
        for (x, y, coverage) in pixels {
            if coverage <= 0.0 {
                continue;
            }
            let (x, y) = transform.transform(x, y);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                let c = BackendColor { alpha: color.alpha * f64::from(coverage.min(1.0)), rgb: color.rgb };
                self.inner.draw_pixel((x, y), c)?;
            }
        }
        Ok(())
    }
}
