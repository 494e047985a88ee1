//! Test data: a small deterministic generator (xorshift) with normal deviates (Box–Muller), so
//! every simulated stream is the same on every run.

pub struct Noise(pub u64);

impl Noise {
    /// A generator for `seed` (any value; zero, which xorshift cannot leave, is moved off).
    pub fn seeded(seed: u64) -> Self {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}
