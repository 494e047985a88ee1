//! deployment: rolls a model version out to the devices a selector names, canary first, then in
//! waves, each wave held to health gates (applied/failed acknowledgements and the live forecast
//! error of the new version against the previous one); a failed gate rolls the wave back.

pub mod domain;
