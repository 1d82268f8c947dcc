//! Arrays from and to files: NetCDF classic and NetCDF-4 variables ([`netcdf`]),
//! HDF5 datasets ([`hdf5`], with NetCDF-4 through libnetcdf; the `hdf5` feature),
//! `.npy` files ([`npy`]), and the CF conventions that decode stored values
//! ([`cf`]).

mod cf;
#[cfg(feature = "hdf5")]
mod hdf5;
mod netcdf;
mod npy;

#[cfg(feature = "hdf5")]
pub use self::hdf5::{read_hdf5, Hdf5Read};
pub use self::netcdf::{read_netcdf, NcFormat, NetcdfOptions, NetcdfRead};
pub use npy::npy_bytes;
