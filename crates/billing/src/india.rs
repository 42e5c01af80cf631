//! India's States and Union Territories: GST State code, ISO 3166-2 code and name.
//! The place of supply (IGST vs CGST + SGST) is decided by comparing the customer's
//! State with the entity's, and the invoice prints it as name and code.

/// (GST State code, ISO 3166-2 subdivision codes, name). The first ISO code is the
/// current one; later ones are older spellings still found in data.
const STATES: &[(&str, &[&str], &str)] = &[
    ("01", &["IN-JK"], "Jammu and Kashmir"),
    ("02", &["IN-HP"], "Himachal Pradesh"),
    ("03", &["IN-PB"], "Punjab"),
    ("04", &["IN-CH"], "Chandigarh"),
    ("05", &["IN-UK", "IN-UT"], "Uttarakhand"),
    ("06", &["IN-HR"], "Haryana"),
    ("07", &["IN-DL"], "Delhi"),
    ("08", &["IN-RJ"], "Rajasthan"),
    ("09", &["IN-UP"], "Uttar Pradesh"),
    ("10", &["IN-BR"], "Bihar"),
    ("11", &["IN-SK"], "Sikkim"),
    ("12", &["IN-AR"], "Arunachal Pradesh"),
    ("13", &["IN-NL"], "Nagaland"),
    ("14", &["IN-MN"], "Manipur"),
    ("15", &["IN-MZ"], "Mizoram"),
    ("16", &["IN-TR"], "Tripura"),
    ("17", &["IN-ML"], "Meghalaya"),
    ("18", &["IN-AS"], "Assam"),
    ("19", &["IN-WB"], "West Bengal"),
    ("20", &["IN-JH"], "Jharkhand"),
    ("21", &["IN-OD", "IN-OR"], "Odisha"),
    ("22", &["IN-CG", "IN-CT"], "Chhattisgarh"),
    ("23", &["IN-MP"], "Madhya Pradesh"),
    ("24", &["IN-GJ"], "Gujarat"),
    (
        "26",
        &["IN-DH", "IN-DN", "IN-DD"],
        "Dadra and Nagar Haveli and Daman and Diu",
    ),
    ("27", &["IN-MH"], "Maharashtra"),
    ("29", &["IN-KA"], "Karnataka"),
    ("30", &["IN-GA"], "Goa"),
    ("31", &["IN-LD"], "Lakshadweep"),
    ("32", &["IN-KL"], "Kerala"),
    ("33", &["IN-TN"], "Tamil Nadu"),
    ("34", &["IN-PY"], "Puducherry"),
    ("35", &["IN-AN"], "Andaman and Nicobar Islands"),
    ("36", &["IN-TG", "IN-TS"], "Telangana"),
    ("37", &["IN-AP"], "Andhra Pradesh"),
    ("38", &["IN-LA"], "Ladakh"),
    ("97", &[], "Other Territory"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndianState {
    pub gst_code: &'static str,
    pub iso_code: Option<&'static str>,
    pub name: &'static str,
}

fn state(
    &(gst_code, iso, name): &(&'static str, &'static [&'static str], &'static str),
) -> IndianState {
    IndianState {
        gst_code,
        iso_code: iso.first().copied(),
        name,
    }
}

pub fn state_by_gst_code(code: &str) -> Option<IndianState> {
    STATES.iter().find(|s| s.0 == code).map(state)
}

/// The State of an ISO 3166-2 code (`IN-KA`, case-insensitive).
pub fn state_by_iso(code: &str) -> Option<IndianState> {
    let code = code.trim().to_ascii_uppercase();
    STATES
        .iter()
        .find(|s| s.1.contains(&code.as_str()))
        .map(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn karnataka_is_29() {
        let ka = state_by_iso("in-ka").unwrap();
        assert_eq!((ka.gst_code, ka.name), ("29", "Karnataka"));
        assert_eq!(state_by_iso("IN-TS"), state_by_gst_code("36"));
        assert!(state_by_iso("IN-XX").is_none());
    }
}
