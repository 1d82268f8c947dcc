//! Writing NetCDF classic files: CDF-1 when every offset fits 32 bits, CDF-2
//! (64-bit offsets) otherwise. Record variables are interleaved record by record,
//! as the format lays them out.

use super::error::NcError;
use super::header::{pad4, Dim};
use super::nc_type::NcType;

/// The values of a variable or attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// `byte`
    Byte(Vec<i8>),
    /// `char`
    Char(Vec<u8>),
    /// `short`
    Short(Vec<i16>),
    /// `int`
    Int(Vec<i32>),
    /// `float`
    Float(Vec<f32>),
    /// `double`
    Double(Vec<f64>),
}

impl Data {
    fn nc_type(&self) -> NcType {
        match self {
            Data::Byte(_) => NcType::Byte,
            Data::Char(_) => NcType::Char,
            Data::Short(_) => NcType::Short,
            Data::Int(_) => NcType::Int,
            Data::Float(_) => NcType::Float,
            Data::Double(_) => NcType::Double,
        }
    }

    fn len(&self) -> usize {
        match self {
            Data::Byte(v) => v.len(),
            Data::Char(v) => v.len(),
            Data::Short(v) => v.len(),
            Data::Int(v) => v.len(),
            Data::Float(v) => v.len(),
            Data::Double(v) => v.len(),
        }
    }

    /// Appends values `a..b` big-endian.
    fn put(&self, a: usize, b: usize, out: &mut Vec<u8>) {
        match self {
            Data::Byte(v) => out.extend(v[a..b].iter().map(|&x| x as u8)),
            Data::Char(v) => out.extend_from_slice(&v[a..b]),
            Data::Short(v) => v[a..b]
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
            Data::Int(v) => v[a..b]
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
            Data::Float(v) => v[a..b]
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
            Data::Double(v) => v[a..b]
                .iter()
                .for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
        }
    }
}

/// A variable to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVar {
    /// Name.
    pub name: String,
    /// Indices into the file's dimensions.
    pub dims: Vec<usize>,
    /// Attributes (name, value; text as `Data::Char`).
    pub attrs: Vec<(String, Data)>,
    /// Values in C order.
    pub data: Data,
}

impl NewVar {
    /// A variable without attributes.
    pub fn new(name: &str, dims: &[usize], data: Data) -> NewVar {
        NewVar {
            name: name.into(),
            dims: dims.to_vec(),
            attrs: vec![],
            data,
        }
    }

    /// With a text attribute.
    pub fn text(mut self, name: &str, value: &str) -> NewVar {
        self.attrs
            .push((name.into(), Data::Char(value.as_bytes().to_vec())));
        self
    }
}

/// A whole file to write.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NcFile {
    /// Dimensions (at most one with `len: None`, the record dimension).
    pub dims: Vec<Dim>,
    /// Global attributes.
    pub attrs: Vec<(String, Data)>,
    /// Variables.
    pub vars: Vec<NewVar>,
}

struct Out {
    buf: Vec<u8>,
    wide: bool,
}

impl Out {
    fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }
    fn offset(&mut self, v: u64) {
        if self.wide {
            self.buf.extend_from_slice(&v.to_be_bytes());
        } else {
            self.u32(v as u32);
        }
    }
    fn name(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
        self.pad();
    }
    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }
    fn attrs(&mut self, attrs: &[(String, Data)]) {
        if attrs.is_empty() {
            self.u32(0);
            self.u32(0);
            return;
        }
        self.u32(0x0C);
        self.u32(attrs.len() as u32);
        for (name, d) in attrs {
            self.name(name);
            self.u32(d.nc_type().code());
            self.u32(d.len() as u32);
            d.put(0, d.len(), &mut self.buf);
            self.pad();
        }
    }
}

fn header(f: &NcFile, numrecs: u64, begins: &[u64], wide: bool) -> Vec<u8> {
    let mut o = Out {
        buf: Vec::new(),
        wide,
    };
    o.buf.extend_from_slice(b"CDF");
    o.buf.push(if wide { 2 } else { 1 });
    o.u32(numrecs as u32);
    if f.dims.is_empty() {
        o.u32(0);
        o.u32(0);
    } else {
        o.u32(0x0A);
        o.u32(f.dims.len() as u32);
        for d in &f.dims {
            o.name(&d.name);
            o.u32(d.len.unwrap_or(0) as u32);
        }
    }
    o.attrs(&f.attrs);
    if f.vars.is_empty() {
        o.u32(0);
        o.u32(0);
    } else {
        o.u32(0x0B);
        o.u32(f.vars.len() as u32);
        for (v, &begin) in f.vars.iter().zip(begins) {
            o.name(&v.name);
            o.u32(v.dims.len() as u32);
            for &d in &v.dims {
                o.u32(d as u32);
            }
            o.attrs(&v.attrs);
            o.u32(v.data.nc_type().code());
            let slab = slab_len(f, v) as u64 * v.data.nc_type().size() as u64;
            o.u32(pad4(slab).min(u64::from(u32::MAX)) as u32);
            o.offset(begin);
        }
    }
    o.buf
}

fn is_record(f: &NcFile, v: &NewVar) -> bool {
    v.dims
        .first()
        .is_some_and(|&d| f.dims.get(d).is_some_and(|d| d.len.is_none()))
}

/// Values in one record of `v` (all of `v` if not a record variable).
fn slab_len(f: &NcFile, v: &NewVar) -> usize {
    let skip = usize::from(is_record(f, v));
    v.dims[skip.min(v.dims.len())..]
        .iter()
        .map(|&d| f.dims[d].len.unwrap_or(0) as usize)
        .product()
}

/// The bytes of `f` as a NetCDF classic file.
pub fn encode(f: &NcFile) -> Result<Vec<u8>, NcError> {
    if f.dims.iter().filter(|d| d.len.is_none()).count() > 1 {
        return Err(NcError::Write("more than one record dimension".into()));
    }
    if let Some(d) = f.dims.iter().find(|d| d.len == Some(0)) {
        // A length of zero means the record dimension in the format.
        return Err(NcError::Write(format!(
            "dimension {} has length 0, which the classic format cannot store",
            d.name
        )));
    }
    for v in &f.vars {
        if v.dims.iter().any(|&d| d >= f.dims.len()) {
            return Err(NcError::Write(format!(
                "variable {} names a missing dimension",
                v.name
            )));
        }
        if v.dims.iter().skip(1).any(|&d| f.dims[d].len.is_none()) {
            return Err(NcError::Write(format!(
                "variable {}: the record dimension must come first",
                v.name
            )));
        }
    }
    // The record count from the record variables' data.
    let mut numrecs: Option<u64> = None;
    for v in f.vars.iter().filter(|v| is_record(f, v)) {
        let slab = slab_len(f, v).max(1);
        if v.data.len() % slab != 0 {
            return Err(NcError::Write(format!(
                "variable {}: {} values is not a whole number of records of {slab}",
                v.name,
                v.data.len()
            )));
        }
        let n = (v.data.len() / slab) as u64;
        if numrecs.is_some_and(|m| m != n) {
            return Err(NcError::Write(format!(
                "variable {} has {n} records, another has {numrecs:?}",
                v.name
            )));
        }
        numrecs = Some(n);
    }
    let numrecs = numrecs.unwrap_or(0);
    for v in f.vars.iter().filter(|v| !is_record(f, v)) {
        let want = slab_len(f, v);
        if v.data.len() != want {
            return Err(NcError::Write(format!(
                "variable {} has {} values, its shape needs {want}",
                v.name,
                v.data.len()
            )));
        }
    }
    let fixed_bytes: u64 = f
        .vars
        .iter()
        .filter(|v| !is_record(f, v))
        .map(|v| pad4((v.data.len() * v.data.nc_type().size()) as u64))
        .sum();
    let rec_vars: Vec<&NewVar> = f.vars.iter().filter(|v| is_record(f, v)).collect();
    let rec_slab = |v: &NewVar| (slab_len(f, v) * v.data.nc_type().size()) as u64;
    let recsize: u64 = if rec_vars.len() == 1 {
        rec_slab(rec_vars[0])
    } else {
        rec_vars.iter().map(|v| pad4(rec_slab(v))).sum()
    };
    let wide = {
        let h = header(f, numrecs, &vec![0; f.vars.len()], false).len() as u64;
        // CDF-1 offsets are signed 32-bit.
        h + fixed_bytes + recsize * numrecs > i32::MAX as u64
    };
    let hlen = header(f, numrecs, &vec![0; f.vars.len()], wide).len() as u64;
    // Offsets: fixed variables in order, then the record section.
    let mut begins = Vec::with_capacity(f.vars.len());
    let mut at = hlen;
    for v in &f.vars {
        if !is_record(f, v) {
            begins.push(at);
            at += pad4((v.data.len() * v.data.nc_type().size()) as u64);
        } else {
            begins.push(0);
        }
    }
    let mut rec_at = at;
    for (i, v) in f.vars.iter().enumerate() {
        if is_record(f, v) {
            begins[i] = rec_at;
            rec_at += if rec_vars.len() == 1 {
                rec_slab(v)
            } else {
                pad4(rec_slab(v))
            };
        }
    }
    let mut out = header(f, numrecs, &begins, wide);
    out.reserve((fixed_bytes + recsize * numrecs) as usize);
    for v in f.vars.iter().filter(|v| !is_record(f, v)) {
        v.data.put(0, v.data.len(), &mut out);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    for r in 0..numrecs as usize {
        for v in &rec_vars {
            let n = slab_len(f, v);
            v.data.put(r * n, (r + 1) * n, &mut out);
            if rec_vars.len() > 1 {
                while out.len() % 4 != 0 {
                    out.push(0);
                }
            }
        }
    }
    Ok(out)
}

/// Where a file of fixed-size variables (no record dimension) puts things, for
/// writers that fill the data in place: the header's bytes, where each variable's
/// data begins, and the file's length. The variables' values are not read, only
/// their types, so `Data` may be empty.
///
/// ```
/// use brisk_io::netcdf3::{fixed_layout, encode, Data, Dim, NcFile, NewVar};
/// let mut f = NcFile {
///     dims: vec![Dim { name: "x".into(), len: Some(3) }],
///     attrs: vec![],
///     vars: vec![NewVar::new("v", &[0], Data::Short(vec![]))],
/// };
/// let (header, begins, len) = fixed_layout(&f).unwrap();
/// f.vars[0].data = Data::Short(vec![1, 2, 3]);
/// let whole = encode(&f).unwrap();
/// assert_eq!((&whole[..header.len()], len), (&header[..], whole.len() as u64));
/// assert_eq!(&whole[begins[0] as usize..][..2], &1i16.to_be_bytes());
/// ```
pub fn fixed_layout(f: &NcFile) -> Result<(Vec<u8>, Vec<u64>, u64), NcError> {
    if f.dims.iter().any(|d| d.len.is_none()) {
        return Err(NcError::Write(
            "a layout in place needs fixed dimensions only".into(),
        ));
    }
    if let Some(d) = f.dims.iter().find(|d| d.len == Some(0)) {
        return Err(NcError::Write(format!(
            "dimension {} has length 0, which the classic format cannot store",
            d.name
        )));
    }
    if let Some(v) = f
        .vars
        .iter()
        .find(|v| v.dims.iter().any(|&d| d >= f.dims.len()))
    {
        return Err(NcError::Write(format!(
            "variable {} names a missing dimension",
            v.name
        )));
    }
    let sizes: Vec<u64> = f
        .vars
        .iter()
        .map(|v| pad4((slab_len(f, v) * v.data.nc_type().size()) as u64))
        .collect();
    let data: u64 = sizes.iter().sum();
    let wide = header(f, 0, &vec![0; f.vars.len()], false).len() as u64 + data > i32::MAX as u64;
    let hlen = header(f, 0, &vec![0; f.vars.len()], wide).len() as u64;
    let mut begins = Vec::with_capacity(f.vars.len());
    let mut at = hlen;
    for s in &sizes {
        begins.push(at);
        at += s;
    }
    Ok((header(f, 0, &begins, wide), begins, at))
}
