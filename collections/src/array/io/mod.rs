//! Arrays from and to files: NetCDF classic and NetCDF-4 variables ([`netcdf`]),
//! HDF5 datasets ([`hdf5`], with NetCDF-4 through libnetcdf; the `hdf5` feature),
//! `.npy` files ([`npy`]), the CF conventions that decode stored values
//! ([`cf`]), and text variables read as strings ([`netcdf_strings`], on the
//! decoding of [`text`]).

mod cf;
#[cfg(feature = "hdf5")]
mod hdf5;
mod netcdf;
mod netcdf_strings;
mod netcdf_write;
mod npy;
mod region;
mod text;

#[cfg(feature = "hdf5")]
pub use self::hdf5::{read_hdf5, Hdf5Read};
pub use self::netcdf::{read_netcdf, NcFormat, NetcdfOptions, NetcdfRead};
pub use self::netcdf_strings::read_netcdf_strings;
pub use npy::npy_bytes;
