//! NaN as JSON null: `nivesh_core::nan`, re-exported for this crate's serde attributes.

pub use nivesh_core::nan::*;

#[cfg(test)]
mod tests {
    #[test]
    fn nan_round_trips_as_null() {
        let s = crate::sample::Column::numbers("x", vec![1.0, f64::NAN]);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("[1.0,null]"), "{json}");
        let back: crate::sample::Column = serde_json::from_str(&json).unwrap();
        assert!(matches!(&back.values, crate::sample::Values::Numbers(v) if v[0] == 1.0 && v[1].is_nan()));
    }
}
