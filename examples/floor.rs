//! The benchmark floor: an empty program built with the release profile,
//! so `make bench` can tell the cost of exec alone from what vnet adds.

fn main() {}
