#![no_main]
//! Feeds arbitrary bytes to the import csv reader (recognition + every row importer).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    bms2intune::import::fuzz_read_csv(data);
});
