//! The header of a NetCDF classic file (CDF-1, CDF-2 with 64-bit offsets, and
//! CDF-5), parsed from bytes without trusting them: every count is checked against
//! the bytes that remain, so a hostile or truncated header is an error, never a
//! panic or a huge allocation.

use super::error::NcError;
// `header::NcType` keeps naming the external data types.
pub use super::nc_type::NcType;

/// A dimension; `len` is `None` for the record (unlimited) dimension.
#[derive(Debug, Clone, PartialEq)]
pub struct Dim {
    /// Name.
    pub name: String,
    /// Length, or `None` for the record dimension.
    pub len: Option<u64>,
}

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text.
    Text(String),
    /// Numbers (any numeric type), as f64.
    Numbers(Vec<f64>),
}

impl AttrValue {
    /// The first number, if numeric.
    pub fn number(&self) -> Option<f64> {
        match self {
            AttrValue::Numbers(v) => v.first().copied(),
            AttrValue::Text(_) => None,
        }
    }
}

/// An attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr {
    /// Name.
    pub name: String,
    /// The stored type.
    pub nc_type: NcType,
    /// Value.
    pub value: AttrValue,
}

/// A variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    /// Name.
    pub name: String,
    /// Indices into the header's dimensions.
    pub dimids: Vec<usize>,
    /// Attributes.
    pub attrs: Vec<Attr>,
    /// The stored type.
    pub nc_type: NcType,
    /// Byte offset of the data (of the first record, for record variables).
    pub begin: u64,
}

impl Var {
    /// The attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        self.attrs.iter().find(|a| a.name == name).map(|a| &a.value)
    }
}

/// A parsed header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// 1 (classic), 2 (64-bit offset) or 5 (64-bit data).
    pub version: u8,
    /// Number of records.
    pub numrecs: u64,
    /// Dimensions.
    pub dims: Vec<Dim>,
    /// Global attributes.
    pub attrs: Vec<Attr>,
    /// Variables.
    pub vars: Vec<Var>,
    /// Bytes the header takes.
    pub len: u64,
}

impl Header {
    /// The variable `name`, or an error listing the variables present.
    pub fn var(&self, name: &str) -> Result<&Var, NcError> {
        self.vars
            .iter()
            .find(|v| v.name == name)
            .ok_or_else(|| NcError::MissingVariable {
                name: name.to_string(),
                present: self.vars.iter().map(|v| v.name.clone()).collect(),
            })
    }

    /// Whether `v` is a record variable (its first dimension is the record one).
    pub fn is_record(&self, v: &Var) -> bool {
        v.dimids
            .first()
            .is_some_and(|&d| self.dims[d].len.is_none())
    }

    /// The shape of `v` (the record dimension has `numrecs`).
    pub fn shape(&self, v: &Var) -> Vec<u64> {
        v.dimids
            .iter()
            .map(|&d| self.dims[d].len.unwrap_or(self.numrecs))
            .collect()
    }

    /// The names of `v`'s dimensions.
    pub fn dim_names(&self, v: &Var) -> Vec<&str> {
        v.dimids
            .iter()
            .map(|&d| self.dims[d].name.as_str())
            .collect()
    }

    /// Bytes of one record of `v` (the whole variable if not a record variable).
    pub fn slab_bytes(&self, v: &Var) -> u64 {
        let shape = self.shape(v);
        let skip = usize::from(self.is_record(v));
        product(&shape[skip.min(shape.len())..]).saturating_mul(v.nc_type.size() as u64)
    }

    /// Bytes between the starts of two records: the record slabs of every record
    /// variable, each padded to 4 bytes unless it is the only one.
    pub fn record_size(&self) -> u64 {
        let rec: Vec<&Var> = self.vars.iter().filter(|v| self.is_record(v)).collect();
        if rec.len() == 1 {
            return self.slab_bytes(rec[0]);
        }
        rec.iter()
            .fold(0u64, |a, v| a.saturating_add(pad4(self.slab_bytes(v))))
    }
}

pub(crate) fn pad4(n: u64) -> u64 {
    n.div_ceil(4).saturating_mul(4)
}

/// A product that saturates instead of overflowing (hostile headers).
pub(crate) fn product(xs: &[u64]) -> u64 {
    xs.iter().fold(1u64, |a, &x| a.saturating_mul(x))
}

const ABSENT: u32 = 0;
const NC_DIMENSION: u32 = 0x0A;
const NC_VARIABLE: u32 = 0x0B;
const NC_ATTRIBUTE: u32 = 0x0C;
/// Names longer than this are taken as corruption.
const MAX_NAME: u64 = 1 << 16;

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
    version: u8,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], NcError> {
        let end = (self.at as u64)
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len() as u64);
        let Some(end) = end else {
            return Err(NcError::Truncated {
                at: self.at as u64,
                what: what.to_string(),
            });
        };
        let bytes: &'a [u8] = self.bytes;
        let s = &bytes[self.at..end as usize];
        self.at = end as usize;
        Ok(s)
    }
    fn u32(&mut self, what: &str) -> Result<u32, NcError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, what: &str) -> Result<u64, NcError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }
    /// A count: 4 bytes, or 8 in CDF-5.
    fn count(&mut self, what: &str) -> Result<u64, NcError> {
        if self.version == 5 {
            self.u64(what)
        } else {
            self.u32(what).map(u64::from)
        }
    }
    fn offset(&mut self, what: &str) -> Result<u64, NcError> {
        if self.version == 1 {
            self.u32(what).map(u64::from)
        } else {
            self.u64(what)
        }
    }
    fn name(&mut self, what: &str) -> Result<String, NcError> {
        let n = self.count(what)?;
        if n > MAX_NAME {
            return Err(self.bad(format!("{what}: a name of {n} bytes")));
        }
        let b = self.take(pad4(n), what)?;
        String::from_utf8(b[..n as usize].to_vec())
            .map_err(|_| self.bad(format!("{what}: a name that is not UTF-8")))
    }
    fn bad(&self, reason: String) -> NcError {
        NcError::Malformed {
            at: self.at as u64,
            reason,
        }
    }
    /// A list tag and its length; `ABSENT` gives 0.
    fn list(&mut self, tag: u32, what: &str) -> Result<u64, NcError> {
        let t = self.u32(what)?;
        let n = self.count(what)?;
        match t {
            ABSENT if n == 0 => Ok(0),
            t if t == tag => Ok(n),
            other => Err(self.bad(format!("{what}: expected tag {tag:#x}, found {other:#x}"))),
        }
    }
    fn attrs(&mut self, what: &str) -> Result<Vec<Attr>, NcError> {
        let n = self.list(NC_ATTRIBUTE, what)?;
        let mut out = Vec::new();
        for _ in 0..n {
            let name = self.name(what)?;
            let code = self.u32(what)?;
            let nc_type = NcType::from_code(code)
                .ok_or_else(|| self.bad(format!("attribute {name}: unknown type {code}")))?;
            let count = self.count(what)?;
            let bytes = count
                .checked_mul(nc_type.size() as u64)
                .ok_or_else(|| self.bad(format!("attribute {name}: {count} values")))?;
            let raw = self.take(pad4(bytes), &format!("attribute {name}"))?;
            let raw = &raw[..bytes as usize];
            let value = if nc_type == NcType::Char {
                AttrValue::Text(
                    String::from_utf8_lossy(raw)
                        .trim_end_matches('\0')
                        .to_string(),
                )
            } else {
                let mut v = Vec::with_capacity(count as usize);
                super::nc_type::decode_into(nc_type, raw, &mut v, |x| x);
                AttrValue::Numbers(v)
            };
            out.push(Attr {
                name,
                nc_type,
                value,
            });
        }
        Ok(out)
    }
}

/// Parses a header from the first bytes of a file. [`NcError::Truncated`] means more
/// bytes are needed (or the file is cut short).
pub fn parse(bytes: &[u8]) -> Result<Header, NcError> {
    if bytes.len() < 4 || &bytes[..3] != b"CDF" {
        return Err(NcError::NotNetcdf3 {
            magic: bytes.iter().take(4).copied().collect(),
        });
    }
    let version = bytes[3];
    if !matches!(version, 1 | 2 | 5) {
        return Err(NcError::Malformed {
            at: 3,
            reason: format!("unknown format version {version}"),
        });
    }
    let mut c = Cursor {
        bytes,
        at: 4,
        version,
    };
    let numrecs = c.count("the record count")?;
    // STREAMING (all ones) means the count was not written: derive it later.
    let numrecs = if numrecs == u64::from(u32::MAX) || numrecs == u64::MAX {
        0
    } else {
        numrecs
    };
    let ndims = c.list(NC_DIMENSION, "the dimension list")?;
    let mut dims = Vec::new();
    for _ in 0..ndims {
        let name = c.name("a dimension name")?;
        let len = c.count("a dimension length")?;
        dims.push(Dim {
            name,
            len: (len != 0).then_some(len),
        });
    }
    if dims.iter().filter(|d| d.len.is_none()).count() > 1 {
        return Err(c.bad("more than one record dimension".into()));
    }
    let attrs = c.attrs("the global attributes")?;
    let nvars = c.list(NC_VARIABLE, "the variable list")?;
    let mut vars = Vec::new();
    for _ in 0..nvars {
        let name = c.name("a variable name")?;
        let nd = c.count(&format!("variable {name}"))?;
        if nd > 1024 {
            return Err(c.bad(format!("variable {name} has {nd} dimensions")));
        }
        let mut dimids = Vec::with_capacity(nd as usize);
        for _ in 0..nd {
            let d = c.count(&format!("variable {name}"))?;
            if d >= dims.len() as u64 {
                return Err(c.bad(format!(
                    "variable {name} names dimension {d}, but there are {}",
                    dims.len()
                )));
            }
            dimids.push(d as usize);
        }
        if dimids.iter().skip(1).any(|&d| dims[d].len.is_none()) {
            return Err(c.bad(format!(
                "variable {name} uses the record dimension after its first axis"
            )));
        }
        let vattrs = c.attrs(&format!("the attributes of {name}"))?;
        let code = c.u32(&format!("variable {name}"))?;
        let nc_type = NcType::from_code(code)
            .ok_or_else(|| c.bad(format!("variable {name}: unknown type {code}")))?;
        let _vsize = c.count(&format!("variable {name}"))?;
        let begin = c.offset(&format!("variable {name}"))?;
        vars.push(Var {
            name,
            dimids,
            attrs: vattrs,
            nc_type,
            begin,
        });
    }
    Ok(Header {
        version,
        numrecs,
        dims,
        attrs,
        vars,
        len: c.at as u64,
    })
}
