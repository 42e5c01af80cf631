//! Latency histogram buckets of the rollups (upper bounds in milliseconds; the last
//! bucket is everything slower).

/// Upper bounds (inclusive) in milliseconds of every bucket but the last.
pub const BOUNDS_MS: [u64; 11] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

pub const BUCKETS: usize = BOUNDS_MS.len() + 1;

/// The bucket index of a latency.
pub fn bucket(latency_us: u64) -> usize {
    BOUNDS_MS
        .iter()
        .position(|&b| latency_us <= b * 1_000)
        .unwrap_or(BOUNDS_MS.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_edges() {
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(5_000), 0);
        assert_eq!(bucket(5_001), 1);
        assert_eq!(bucket(10_000_000), 10);
        assert_eq!(bucket(10_000_001), 11);
    }
}
