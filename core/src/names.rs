//! Friendly host names, `adjective-noun-1234`, as the OTP host generates them.

use rand::Rng;

const ADJECTIVES: &[&str] = &[
    "autumn", "hidden", "bitter", "misty", "silent", "empty", "dry", "dark", "summer", "icy", "delicate", "quiet",
    "white", "cool", "spring", "winter", "patient", "twilight", "dawn", "crimson", "wispy", "weathered", "blue",
    "billowing", "broken", "cold", "damp", "falling", "frosty", "green", "long", "late", "lingering", "bold",
    "little", "morning", "muddy", "old", "red", "rough", "still", "small", "sparkling", "shy", "wandering",
    "withered", "wild", "black", "young", "holy", "solitary", "fragrant", "aged", "snowy", "proud", "floral",
    "restless", "divine", "polished", "ancient", "purple", "lively", "nameless",
];
const NOUNS: &[&str] = &[
    "waterfall", "river", "breeze", "moon", "rain", "wind", "sea", "morning", "snow", "lake", "sunset", "pine",
    "shadow", "leaf", "dawn", "glitter", "forest", "hill", "cloud", "meadow", "sun", "glade", "bird", "brook",
    "butterfly", "bush", "dew", "dust", "field", "fire", "flower", "firefly", "feather", "grass", "haze",
    "mountain", "night", "pond", "darkness", "snowflake", "silence", "sound", "sky", "shape", "surf", "thunder",
    "violet", "water", "wildflower", "wave", "resonance", "wood", "dream", "cherry", "tree", "fog", "frost",
    "voice", "paper", "frog", "smoke", "star",
];

/// A new random friendly name.
pub(crate) fn friendly_name() -> String {
    let mut rng = rand::thread_rng();
    format!(
        "{}-{}-{}",
        ADJECTIVES[rng.gen_range(0..ADJECTIVES.len())],
        NOUNS[rng.gen_range(0..NOUNS.len())],
        rng.gen_range(1..10000)
    )
}
