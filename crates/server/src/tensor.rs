//! Tensors of the Open Inference Protocol (`oip`), and how a model declares its own (`TensorSpec`): datatypes, the JSON `data` form (flat or nested,
//! row-major) and Triton's binary form (little-endian, no padding; a `BYTES` element is a
//! 4-byte little-endian length and its bytes). Decoding checks everything a caller can get
//! wrong — the datatype's name, the shape against the element count, the binary part's size,
//! each `BYTES` element's size — and says which tensor is wrong.

use serde_json::Value;

/// The largest `BYTES` element accepted (a query, a text, a JSON request).
pub const MAX_BYTES_ELEMENT: usize = 1 << 20;

/// An OIP datatype.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp16,
    Fp32,
    Fp64,
    Bf16,
    Bytes,
}

const ALL: [(Datatype, &str); 14] = [
    (Datatype::Bool, "BOOL"),
    (Datatype::Uint8, "UINT8"),
    (Datatype::Uint16, "UINT16"),
    (Datatype::Uint32, "UINT32"),
    (Datatype::Uint64, "UINT64"),
    (Datatype::Int8, "INT8"),
    (Datatype::Int16, "INT16"),
    (Datatype::Int32, "INT32"),
    (Datatype::Int64, "INT64"),
    (Datatype::Fp16, "FP16"),
    (Datatype::Fp32, "FP32"),
    (Datatype::Fp64, "FP64"),
    (Datatype::Bf16, "BF16"),
    (Datatype::Bytes, "BYTES"),
];

impl Datatype {
    pub fn parse(s: &str) -> Option<Datatype> {
        ALL.iter().find(|(_, n)| *n == s).map(|(d, _)| *d)
    }
    pub fn name(self) -> &'static str {
        ALL.iter().find(|(d, _)| *d == self).map_or("BYTES", |(_, n)| n)
    }
    /// Triton's model-configuration name (`TYPE_STRING` for `BYTES`).
    pub fn config_name(self) -> String {
        match self {
            Datatype::Bytes => "TYPE_STRING".into(),
            d => format!("TYPE_{}", d.name()),
        }
    }
    /// Bytes per element in the binary form (`None` for `BYTES`).
    fn width(self) -> Option<usize> {
        Some(match self {
            Datatype::Bool | Datatype::Uint8 | Datatype::Int8 => 1,
            Datatype::Uint16 | Datatype::Int16 | Datatype::Fp16 | Datatype::Bf16 => 2,
            Datatype::Uint32 | Datatype::Int32 | Datatype::Fp32 => 4,
            Datatype::Uint64 | Datatype::Int64 | Datatype::Fp64 => 8,
            Datatype::Bytes => return None,
        })
    }
    fn is_float(self) -> bool {
        matches!(self, Datatype::Fp16 | Datatype::Fp32 | Datatype::Fp64 | Datatype::Bf16)
    }
    fn is_signed(self) -> bool {
        matches!(self, Datatype::Int8 | Datatype::Int16 | Datatype::Int32 | Datatype::Int64)
    }
    fn is_unsigned(self) -> bool {
        matches!(self, Datatype::Uint8 | Datatype::Uint16 | Datatype::Uint32 | Datatype::Uint64)
    }
}

/// One tensor of a model's interface.
#[derive(Debug, Clone, Copy)]
pub struct TensorSpec {
    pub name: &'static str,
    pub datatype: Datatype,
    /// Its place in the JSON route's request or answer: a key, a dotted path
    /// (`applicant_data.age`), or `""` for the whole object.
    pub field: &'static str,
    /// A `BYTES` element that is JSON text (an object, an array) rather than a string.
    pub json: bool,
    /// An input a request cannot leave out.
    pub required: bool,
}

impl TensorSpec {
    /// A tensor of `datatype` at `field`.
    pub const fn new(name: &'static str, datatype: Datatype, field: &'static str) -> TensorSpec {
        TensorSpec { name, datatype, field, json: false, required: false }
    }
    /// A `BYTES` tensor whose elements are JSON text.
    pub const fn json(name: &'static str, field: &'static str) -> TensorSpec {
        TensorSpec { name, datatype: Datatype::Bytes, field, json: true, required: false }
    }
    pub const fn required(self) -> TensorSpec {
        TensorSpec { required: true, ..self }
    }
}

/// A tensor's elements, row-major.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    Bool(Vec<bool>),
    Int(Vec<i64>),
    Uint(Vec<u64>),
    Float(Vec<f64>),
    Bytes(Vec<Vec<u8>>),
}

impl Data {
    pub fn len(&self) -> usize {
        match self {
            Data::Bool(v) => v.len(),
            Data::Int(v) => v.len(),
            Data::Uint(v) => v.len(),
            Data::Float(v) => v.len(),
            Data::Bytes(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Element `i` as a JSON value (`BYTES` as a string; not UTF-8 is an error).
    pub fn json(&self, i: usize) -> Result<Value, String> {
        Ok(match self {
            Data::Bool(v) => Value::Bool(v[i]),
            Data::Int(v) => Value::from(v[i]),
            Data::Uint(v) => Value::from(v[i]),
            Data::Float(v) => serde_json::Number::from_f64(v[i]).map_or(Value::Null, Value::Number),
            Data::Bytes(v) => {
                Value::String(String::from_utf8(v[i].clone()).map_err(|_| format!("element {i} is not UTF-8 text"))?)
            }
        })
    }
}

/// A decoded tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub datatype: Datatype,
    pub shape: Vec<i64>,
    pub data: Data,
}

/// The element count a shape holds (`None` for a negative dimension or an overflow).
pub fn element_count(shape: &[i64]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| usize::try_from(d).ok().and_then(|d| n.checked_mul(d)))
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        x => out.push(x),
    }
}

/// A `BYTES` element of `n` bytes is at most [`MAX_BYTES_ELEMENT`].
pub fn check_bytes_len(name: &str, i: usize, n: usize) -> Result<(), String> {
    if n > MAX_BYTES_ELEMENT {
        return Err(format!("input `{name}`: element {i} is {n} bytes; at most {MAX_BYTES_ELEMENT} per BYTES element"));
    }
    Ok(())
}

/// Decode the JSON `data` of a tensor (flat or nested).
pub fn from_json(name: &str, datatype: Datatype, shape: &[i64], data: &Value) -> Result<Tensor, String> {
    let mut flat = Vec::new();
    flatten(data, &mut flat);
    let want = element_count(shape).ok_or_else(|| format!("input `{name}`: shape {shape:?} is not valid"))?;
    if flat.len() != want {
        return Err(format!("input `{name}`: shape {shape:?} holds {want} elements but `data` has {}", flat.len()));
    }
    let bad = |i: usize, what: &str| format!("input `{name}`: element {i} is not {what} ({})", datatype.name());
    let data = match datatype {
        Datatype::Bool => Data::Bool(
            flat.iter()
                .enumerate()
                .map(|(i, v)| v.as_bool().ok_or_else(|| bad(i, "a boolean")))
                .collect::<Result<_, _>>()?,
        ),
        d if d.is_signed() => Data::Int(
            flat.iter()
                .enumerate()
                .map(|(i, v)| v.as_i64().ok_or_else(|| bad(i, "an integer")))
                .collect::<Result<_, _>>()?,
        ),
        d if d.is_unsigned() => Data::Uint(
            flat.iter()
                .enumerate()
                .map(|(i, v)| v.as_u64().ok_or_else(|| bad(i, "an unsigned integer")))
                .collect::<Result<_, _>>()?,
        ),
        Datatype::Bf16 => return Err(format!("input `{name}`: BF16 must be sent as binary data")),
        d if d.is_float() => Data::Float(
            flat.iter()
                .enumerate()
                .map(|(i, v)| v.as_f64().ok_or_else(|| bad(i, "a number")))
                .collect::<Result<_, _>>()?,
        ),
        _ => Data::Bytes(
            flat.iter()
                .enumerate()
                .map(|(i, v)| {
                    let s = v.as_str().ok_or_else(|| bad(i, "a string"))?;
                    check_bytes_len(name, i, s.len())?;
                    Ok(s.as_bytes().to_vec())
                })
                .collect::<Result<_, String>>()?,
        ),
    };
    Ok(Tensor { name: name.to_string(), datatype, shape: shape.to_vec(), data })
}

fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + frac / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Decode a tensor from its binary form.
pub fn from_binary(name: &str, datatype: Datatype, shape: &[i64], raw: &[u8]) -> Result<Tensor, String> {
    let want = element_count(shape).ok_or_else(|| format!("input `{name}`: shape {shape:?} is not valid"))?;
    let data = match datatype.width() {
        Some(w) => {
            // a shape of 2^62 elements once overflowed this product (a panic in debug builds, a
            // wrapped comparison in release): found by tests/parsers.rs
            let needed = want.checked_mul(w).ok_or_else(|| format!("input `{name}`: shape {shape:?} is too large"))?;
            if raw.len() != needed {
                return Err(format!(
                    "input `{name}`: shape {shape:?} of {} needs {needed} bytes; the binary part has {}",
                    datatype.name(),
                    raw.len()
                ));
            }
            let chunks = raw.chunks_exact(w);
            let arr = |c: &[u8]| -> [u8; 8] {
                let mut b = [0u8; 8];
                b[..c.len()].copy_from_slice(c);
                b
            };
            match datatype {
                Datatype::Bool => Data::Bool(raw.iter().map(|&b| b != 0).collect()),
                Datatype::Int8 => Data::Int(raw.iter().map(|&b| i64::from(b as i8)).collect()),
                Datatype::Int16 => Data::Int(chunks.map(|c| i64::from(i16::from_le_bytes([c[0], c[1]]))).collect()),
                Datatype::Int32 => {
                    Data::Int(chunks.map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect())
                }
                Datatype::Int64 => Data::Int(chunks.map(|c| i64::from_le_bytes(arr(c))).collect()),
                Datatype::Fp16 => Data::Float(chunks.map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]]))).collect()),
                Datatype::Bf16 => Data::Float(
                    chunks
                        .map(|c| f64::from(f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16)))
                        .collect(),
                ),
                Datatype::Fp32 => {
                    Data::Float(chunks.map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))).collect())
                }
                Datatype::Fp64 => Data::Float(chunks.map(|c| f64::from_le_bytes(arr(c))).collect()),
                // unsigned: little-endian, zero-extended
                _ => Data::Uint(chunks.map(|c| u64::from_le_bytes(arr(c))).collect()),
            }
        }
        None => {
            let mut items = Vec::with_capacity(want.min(raw.len() / 4 + 1));
            let mut at = 0usize;
            while at < raw.len() {
                let Some(len) = raw.get(at..at + 4) else {
                    return Err(format!("input `{name}`: a BYTES element's 4-byte length is cut off at byte {at}"));
                };
                let n = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
                check_bytes_len(name, items.len(), n)?;
                let Some(bytes) = raw.get(at + 4..at + 4 + n) else {
                    return Err(format!(
                        "input `{name}`: element {} says {n} bytes but the binary part ends first",
                        items.len()
                    ));
                };
                items.push(bytes.to_vec());
                at += 4 + n;
            }
            if items.len() != want {
                return Err(format!(
                    "input `{name}`: shape {shape:?} holds {want} elements but the binary part has {}",
                    items.len()
                ));
            }
            Data::Bytes(items)
        }
    };
    Ok(Tensor { name: name.to_string(), datatype, shape: shape.to_vec(), data })
}

/// The elements as JSON `data` (for a response).
pub fn to_json(datatype: Datatype, data: &Data) -> Value {
    match data {
        Data::Bool(v) => Value::from(v.clone()),
        Data::Int(v) => Value::from(v.clone()),
        Data::Uint(v) => Value::from(v.clone()),
        Data::Float(v) if datatype == Datatype::Fp32 => Value::Array(
            v.iter()
                .map(|&x| serde_json::Number::from_f64(f64::from(x as f32)).map_or(Value::Null, Value::Number))
                .collect(),
        ),
        Data::Float(v) => Value::Array(
            v.iter().map(|&x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)).collect(),
        ),
        Data::Bytes(v) => {
            Value::Array(v.iter().map(|b| Value::String(String::from_utf8_lossy(b).into_owned())).collect())
        }
    }
}

/// The elements in the binary form, appended to `out` (for a response; outputs are only ever
/// BOOL, INT64, FP32, FP64 or BYTES).
pub fn to_binary(datatype: Datatype, data: &Data, out: &mut Vec<u8>) {
    match data {
        Data::Bool(v) => out.extend(v.iter().map(|&b| u8::from(b))),
        Data::Int(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Uint(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Float(v) if datatype == Datatype::Fp32 => {
            v.iter().for_each(|&x| out.extend_from_slice(&(x as f32).to_le_bytes()))
        }
        Data::Float(v) => v.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Bytes(v) => v.iter().for_each(|b| {
            out.extend_from_slice(&(b.len() as u32).to_le_bytes());
            out.extend_from_slice(b);
        }),
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_huge_binary_shape_is_refused_not_overflowed() {
        // found by tests/parsers.rs: 2^40 elements × 2^40 × 8 bytes overflowed `want * width`
        let e = from_binary("x", Datatype::Fp64, &[1 << 40, 1 << 40], &[0u8; 8]).unwrap_err();
        assert_eq!(e, "input `x`: shape [1099511627776, 1099511627776] is not valid");
        let e = from_binary("x", Datatype::Fp64, &[1 << 61], &[0u8; 8]).unwrap_err();
        assert_eq!(e, "input `x`: shape [2305843009213693952] is too large");
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn json_data_may_be_nested_and_must_match_the_shape() {
        let t = from_json("x", Datatype::Fp32, &[2, 2], &json!([[1, 2.5], [3, 4]])).unwrap();
        assert_eq!(t.data, Data::Float(vec![1.0, 2.5, 3.0, 4.0]));
        let e = from_json("x", Datatype::Fp32, &[3], &json!([1, 2])).unwrap_err();
        assert_eq!(e, "input `x`: shape [3] holds 3 elements but `data` has 2");
        let e = from_json("age", Datatype::Int64, &[1], &json!([1.5])).unwrap_err();
        assert_eq!(e, "input `age`: element 0 is not an integer (INT64)");
        assert!(from_json("x", Datatype::Int64, &[-1], &json!([1])).unwrap_err().contains("not valid"));
    }

    #[test]
    fn binary_round_trips_and_refuses_short_or_oversized_parts() {
        let mut raw = Vec::new();
        to_binary(Datatype::Bytes, &Data::Bytes(vec![b"hi".to_vec(), b"abc".to_vec()]), &mut raw);
        assert_eq!(raw, b"\x02\0\0\0hi\x03\0\0\0abc");
        let t = from_binary("s", Datatype::Bytes, &[2], &raw).unwrap();
        assert_eq!(t.data, Data::Bytes(vec![b"hi".to_vec(), b"abc".to_vec()]));
        assert!(from_binary("s", Datatype::Bytes, &[2], &raw[..11]).unwrap_err().contains("ends first"));
        assert!(from_binary("s", Datatype::Bytes, &[2], &raw[..8]).unwrap_err().contains("length is cut off"));
        assert!(from_binary("s", Datatype::Bytes, &[3], &raw).unwrap_err().contains("holds 3 elements"));
        let big = (MAX_BYTES_ELEMENT as u32 + 1).to_le_bytes();
        assert!(from_binary("s", Datatype::Bytes, &[1], &big).unwrap_err().contains("at most"));
        let mut f = Vec::new();
        to_binary(Datatype::Fp32, &Data::Float(vec![1.0, 2.0]), &mut f);
        assert_eq!(from_binary("f", Datatype::Fp32, &[2], &f).unwrap().data, Data::Float(vec![1.0, 2.0]));
        assert!(from_binary("f", Datatype::Fp32, &[3], &f).unwrap_err().contains("needs 12 bytes"));
        // FP16 1.5 = 0x3E00, -2 = 0xC000
        let h = from_binary("h", Datatype::Fp16, &[2], &[0x00, 0x3e, 0x00, 0xc0]).unwrap();
        assert_eq!(h.data, Data::Float(vec![1.5, -2.0]));
        let b = from_binary("b", Datatype::Bool, &[3], &[1, 0, 1]).unwrap();
        assert_eq!(b.data, Data::Bool(vec![true, false, true]));
    }

    #[test]
    fn datatypes_have_their_protocol_and_config_names() {
        assert_eq!(Datatype::parse("FP64"), Some(Datatype::Fp64));
        assert_eq!(Datatype::parse("fp64"), None);
        assert_eq!(Datatype::Bytes.config_name(), "TYPE_STRING");
        assert_eq!(Datatype::Int64.config_name(), "TYPE_INT64");
    }
}
