//! Evaluation plots as PNG bytes, drawn from a model's evaluation [`Report`]: the intent
//! confusion matrix, the credit and anomaly ROC curves, the anomaly score histogram and the
//! spending forecast against the actuals of the holdout.
//!
//! plotters draws the shapes. Its released font support needs the system's fontconfig and
//! freetype libraries, so text goes through [`GlyphBackend`] instead: a wrapper around plotters'
//! bitmap backend that rasterises text with `ab_glyph` from the DejaVu Sans font shipped in
//! `data/fonts` (nothing to install, same pixels on every machine).

use crate::report::{AnomalyReport, CreditReport, Report, SpendingReport};
use ab_glyph::{Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::*;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingBackend, DrawingErrorKind};

static FONT_BYTES: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");

const WIDTH: u32 = 900;
const HEIGHT: u32 = 700;

/// A plot: its artifact name and PNG bytes.
pub struct Plot {
    pub name: &'static str,
    pub png: Vec<u8>,
}

/// The plots a report has data for: the intent confusion matrix, the ROC curve of a credit or
/// anomaly holdout, the anomaly score histogram, the spending forecast against the actuals.
pub fn for_report(report: &Report) -> anyhow::Result<Vec<Plot>> {
    let mut plots = Vec::new();
    let roc_of = |curve: &[(f64, f64)], auc: f64, plots: &mut Vec<Plot>| -> anyhow::Result<()> {
        if curve.len() >= 2 {
            plots.push(Plot { name: "roc_curve.png", png: roc(curve, auc)? });
        }
        Ok(())
    };
    match report {
        Report::Intent(r) => {
            let matrix: Vec<Vec<f64>> =
                r.confusion_matrix.iter().map(|row| row.iter().map(|&v| v as f64).collect()).collect();
            plots.push(Plot { name: "confusion_matrix.png", png: confusion_matrix(&r.labels, &matrix)? });
        }
        Report::Credit(CreditReport::Holdout(r)) => roc_of(&r.roc_curve, r.metrics.binary.auc_roc, &mut plots)?,
        Report::Anomaly(AnomalyReport::Holdout(r)) => {
            roc_of(&r.roc_curve, r.auc_roc, &mut plots)?;
            let h = &r.score_histogram;
            let (normal, anomalous): (Vec<f64>, Vec<f64>) =
                (h.normal.iter().map(|&v| v as f64).collect(), h.anomalous.iter().map(|&v| v as f64).collect());
            let threshold = Some(r.threshold).filter(|t| t.is_finite());
            plots.push(Plot { name: "score_histogram.png", png: histogram(&h.edges, &normal, &anomalous, threshold)? });
        }
        Report::Spending(SpendingReport::Backtest(r)) => {
            let f = &r.forecast_vs_actual;
            plots.push(Plot {
                name: "forecast_vs_actual.png",
                png: forecast_vs_actual(&f.start, &f.actual, &f.forecast)?,
            });
        }
        Report::Ner(_)
        | Report::Spending(SpendingReport::Benchmark(_))
        | Report::Credit(CreditReport::CrossValidated(_))
        | Report::Anomaly(AnomalyReport::CrossValidated(_)) => {}
    }
    Ok(plots)
}

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a plot: {e:?}")
}

/// Draw on a white RGB canvas with `draw`, then encode it as PNG.
fn render(
    draw: impl FnOnce(&DrawingArea<GlyphBackend<'_>, plotters::coord::Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<u8>> {
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

fn confusion_matrix(labels: &[String], matrix: &[Vec<f64>]) -> anyhow::Result<Vec<u8>> {
    let n = labels.len();
    anyhow::ensure!(n > 0 && matrix.len() == n, "the confusion matrix does not match its labels");
    // names on the rows (with the column number of each), numbers on the columns
    let show_labels = n <= 40;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Intent confusion matrix (row-normalised)", ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(if show_labels { 200 } else { 45 })
            .build_cartesian_2d((0..n - 1).into_segmented(), (0..n - 1).into_segmented())
            .map_err(err)?;
        let row_name = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if *i < n => {
                let t = n - 1 - i;
                if show_labels { format!("{} ({t})", labels[t]) } else { t.to_string() }
            }
            _ => String::new(),
        };
        let column = |v: &SegmentValue<usize>| match v {
            SegmentValue::CenterOf(i) if *i < n => i.to_string(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n.min(40))
            .y_labels(n.min(40))
            .x_label_formatter(&column)
            .y_label_formatter(&row_name)
            .label_style(("sans-serif", 12))
            .x_desc("predicted (column number)")
            .y_desc("true")
            .draw()
            .map_err(err)?;
        let cells = matrix.iter().enumerate().flat_map(|(t, row)| {
            let total: f64 = row.iter().sum();
            row.iter().enumerate().map(move |(p, &v)| {
                let share = if total > 0.0 { v / total } else { 0.0 };
                let shade = (255.0 * (1.0 - share)).round() as u8;
                // true class t drawn from the top
                Rectangle::new(
                    [
                        (SegmentValue::Exact(p), SegmentValue::Exact(n - 1 - t)),
                        (SegmentValue::Exact(p + 1), SegmentValue::Exact(n - t)),
                    ],
                    RGBColor(shade, shade, 255).filled(),
                )
            })
        });
        chart.draw_series(cells).map_err(err)?;
        Ok(())
    })
}

fn roc(curve: &[(f64, f64)], auc: f64) -> anyhow::Result<Vec<u8>> {
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(format!("ROC curve (AUC {auc:.3})"), ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, 0.0..1.0)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("false-positive rate")
            .y_desc("true-positive rate")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], BLACK.mix(0.4))).map_err(err)?;
        chart.draw_series(LineSeries::new(curve.iter().copied(), BLUE.stroke_width(2))).map_err(err)?;
        Ok(())
    })
}

fn histogram(edges: &[f64], normal: &[f64], anomalous: &[f64], threshold: Option<f64>) -> anyhow::Result<Vec<u8>> {
    anyhow::ensure!(edges.len() == normal.len() + 1 && normal.len() == anomalous.len(), "malformed score histogram");
    let (lo, hi) = (edges[0], edges[edges.len() - 1].max(edges[0] + 1e-9));
    // shares, so that the rare anomalies are visible next to the many normal rows
    let share = |v: &[f64]| {
        let total: f64 = v.iter().sum::<f64>().max(1.0);
        v.iter().map(|x| x / total).collect::<Vec<_>>()
    };
    let (normal, anomalous) = (share(normal), share(anomalous));
    let top = normal.iter().chain(&anomalous).copied().fold(0.0f64, f64::max).max(1e-9) * 1.05;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Anomaly scores on the holdout (share of each class per bin)", ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("anomaly score")
            .y_desc("share of rows")
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(err)?;
        for (values, color, label) in [(&normal, BLUE.mix(0.5), "normal"), (&anomalous, RED.mix(0.5), "anomalous")] {
            chart
                .draw_series(
                    values
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| Rectangle::new([(edges[i], 0.0), (edges[i + 1], v)], color.filled())),
                )
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
        }
        if let Some(t) = threshold.filter(|t| (lo..=hi).contains(t)) {
            chart
                .draw_series(LineSeries::new([(t, 0.0), (t, top)], BLACK.stroke_width(2)))
                .map_err(err)?
                .label(format!("threshold {t:.3}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLACK.stroke_width(2)));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        Ok(())
    })
}

fn forecast_vs_actual(start: &str, actual: &[f64], forecast: &[f64]) -> anyhow::Result<Vec<u8>> {
    let days = actual.len().min(forecast.len());
    anyhow::ensure!(days > 0, "no holdout days to plot");
    let top = actual.iter().chain(forecast).copied().fold(0.0f64, f64::max).max(1.0) * 1.05;
    render(|root| {
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Daily spend of all users, holdout from {start}"), ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(0..days, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("day of the holdout")
            .y_desc("spend (INR)")
            .label_style(("sans-serif", 14))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(actual.iter().take(days).copied().enumerate(), BLACK.stroke_width(2)))
            .map_err(err)?
            .label("actual")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLACK.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(forecast.iter().take(days).copied().enumerate(), BLUE.stroke_width(2)))
            .map_err(err)?
            .label("forecast")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLUE.stroke_width(2)));
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw().map_err(err)?;
        Ok(())
    })
}

/// plotters' bitmap backend with text drawn by `ab_glyph` (see the module comment).
struct GlyphBackend<'a> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        buf.truncate(info.buffer_size());
        (info.width, info.height, buf)
    }

    fn reports() -> Vec<Report> {
        use crate::report::*;
        use nivesh_models::ModelKind;
        let intent = IntentReport {
            model: ModelKind::Intent,
            n: 20,
            accuracy: 0.95,
            macro_f1: 0.95,
            weighted_f1: 0.95,
            accuracy_with_threshold: 0.9,
            threshold: 0.5,
            per_class: Default::default(),
            labels: vec!["balance".into(), "spend".into()],
            confusion_matrix: vec![vec![9, 1], vec![0, 10]],
            mean_predict_us: 1.0,
            oos_recall: None,
            oos_n: None,
            model_path: None,
        };
        let anomaly = AnomalyHoldout {
            model: ModelKind::Anomaly,
            roc_curve: vec![(0.0, 0.0), (0.2, 0.8), (1.0, 1.0)],
            score_histogram: ScoreHistogram { edges: vec![0.0, 0.5, 1.0], normal: vec![90, 10], anomalous: vec![1, 9] },
            mode: "unsupervised".into(),
            n: 110,
            auc_roc: 0.8,
            average_precision: 0.5,
            recall_at_1pct_fpr: 0.3,
            threshold: 0.6,
            flagged: 10,
            mean_score_us: 1.0,
            model_path: None,
        };
        let spending = SpendingBacktest {
            model: ModelKind::Spending,
            forecasts: 3,
            origins: 1,
            horizon_days: 3,
            holdout_days: 3,
            mae: 1.0,
            rmse: 1.0,
            smape: 1.0,
            mase: 1.0,
            seasonal_naive: ErrorSummary { mae: 1.0, rmse: 1.0, smape: 1.0, mase: 1.0 },
            monthly_total_mae: 1.0,
            seasonal_naive_monthly_total_mae: 1.0,
            forecast_vs_actual: ForecastVsActual {
                start: "2026-01-01".into(),
                actual: vec![1.0, 2.0, 3.0],
                forecast: vec![1.5, 2.0, 2.5],
            },
            users: 1,
            seconds: 0.0,
        };
        vec![
            Report::Intent(intent),
            Report::Anomaly(AnomalyReport::Holdout(anomaly)),
            Report::Spending(SpendingReport::Backtest(spending)),
        ]
    }

    #[test]
    fn every_report_kind_gives_its_plot() {
        let reports = reports();
        let plots: Vec<Plot> = reports.iter().flat_map(|r| for_report(r).unwrap()).collect();
        let names: Vec<_> = plots.iter().map(|p| p.name).collect();
        assert_eq!(names, ["confusion_matrix.png", "roc_curve.png", "score_histogram.png", "forecast_vs_actual.png"]);
        for p in &plots {
            let (w, h, rgb) = decode(&p.png);
            assert_eq!((w, h), (WIDTH, HEIGHT));
            // something besides the white background was drawn, including dark text pixels
            assert!(rgb.chunks(3).any(|px| px.iter().all(|&c| c < 80)), "{} has no dark pixels", p.name);
        }
        // the same report draws the same pixels
        assert_eq!(for_report(&reports[1]).unwrap()[0].png, plots[1].png);
    }

    #[test]
    fn text_is_rasterised_where_the_anchor_says() {
        let png = render(|root| {
            root.draw(&Text::new("Mg", (100, 100), ("sans-serif", 40).into_font())).map_err(err)?;
            Ok(())
        })
        .unwrap();
        let (w, _, rgb) = decode(&png);
        let dark = |x: u32, y: u32| rgb[((y * w + x) * 3) as usize] < 128;
        // a left/top anchored 40 px text: ink below and right of (100, 100), none above or left
        assert!((100..170).any(|x| (100..150).any(|y| dark(x, y))));
        assert!(!(0..100).any(|x| (0..100).any(|y| dark(x, y))));
    }

    #[test]
    fn reports_without_plot_data_give_none_and_bad_data_an_error() {
        let mut reports = reports();
        let Report::Anomaly(AnomalyReport::Holdout(a)) = &mut reports[1] else { unreachable!() };
        a.roc_curve.truncate(1);
        assert_eq!(for_report(&reports[1]).unwrap().len(), 1, "a one-point ROC curve is not drawn");
        let Report::Intent(i) = &mut reports[0] else { unreachable!() };
        i.labels.truncate(1);
        i.confusion_matrix = vec![vec![1], vec![2]];
        assert!(for_report(&reports[0]).is_err());
    }
}
