//! Evaluation plots as PNG bytes, drawn from a model's evaluation [`Report`]: the intent
//! confusion matrix, the credit and anomaly ROC curves, the anomaly score histogram and the
//! spending forecast against the actuals of the holdout.
//! Drawn with `nivesh-plot` (the same pixels on every machine).

use crate::report::{AnomalyReport, CreditReport, Report, SpendingReport};
use nivesh_plot::*;

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
            let line = Some(r.threshold).filter(|t| t.is_finite()).map(|t| (t, format!("threshold {t:.3}")));
            let series = [
                Series { label: "normal", counts: &normal, color: BLUE },
                Series { label: "anomalous", counts: &anomalous, color: RED },
            ];
            let caption = "Anomaly scores on the holdout (share of each class per bin)";
            plots.push(Plot {
                name: "score_histogram.png",
                png: overlaid_histogram(caption, "anomaly score", &h.edges, &series, line)?,
            });
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
            oos_curve: Vec::new(),
            ci95: Default::default(),
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
            ci95: Default::default(),
            model_path: None,
        };
        let spending = SpendingBacktest {
            method: nivesh_models::forecast::SeriesMethod::Theta,
            chosen: None,
            previous_model: false,
            ci95: Default::default(),
            vs_seasonal_naive: crate::compare::comparison("seasonal naive (7)", String::new(), Vec::new()),
            festival_days: Default::default(),
            other_days: Default::default(),
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
            observations: Vec::new(),
        };
        vec![
            Report::Intent(intent),
            Report::Anomaly(AnomalyReport::Holdout(anomaly)),
            Report::Spending(SpendingReport::Backtest(Box::new(spending))),
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
