//! Defaults for fragmented MP4: fragments of about a second, and the first frame shown at t = 0.
//!
//! Why: with `movflags: '+frag_keyframe+empty_moov'` the mov muxer cuts a fragment at each keyframe,
//! and x264's default keyframe interval (250 frames) is longer than most clips: a 3 s live stream sent
//! only its 784-byte header until the encode ended. And without an edit list (the muxer writes none
//! when the moov goes out empty, before any sample), B-frame delay shifts every frame: the first one
//! was presented at 2/30 s and the stream lasted 3.033 s.
//! So, unless the caller chose otherwise, fragmented output gets
//! - `frag_duration` = 1 s (fragments are also still cut at keyframes when `frag_keyframe` is set);
//!   callers who set `frag_duration`, `frag_size`, or `frag_every_frame` / `frag_custom` keep theirs;
//! - `+delay_moov`: the moov is written with the first fragment, when the muxer knows the first
//!   timestamps, so it carries an edit list and frame 0 is presented at t = 0. Not added with
//!   `dash`, `cmaf` or `negative_cts_offsets` (their own timing model), nor when `use_editlist` is set.

use super::container::Container;
use crate::core::encoder::settings::OptionValue;

/// Flags that make the mov muxer fragment.
const FRAGMENTING: &[&str] = &["frag_keyframe", "empty_moov", "frag_every_frame", "frag_custom", "separate_moof"];
/// Flags whose timing model the defaults stay out of.
const OWN_TIMING: &[&str] = &["dash", "cmaf", "negative_cts_offsets", "delay_moov", "frag_discont"];
/// One second in `frag_duration`'s unit (microseconds).
const FRAGMENT_US: f64 = 1_000_000.0;

/// `options` (the muxer's, as the caller gave them) with the fragmented-MP4 defaults added.
pub fn with_fragment_defaults(
    container: &Container,
    mut options: Vec<(String, OptionValue)>,
) -> Vec<(String, OptionValue)> {
    // The mov family fragments as plain MP4 does, but ismv (Smooth Streaming), which fragments its own way.
    if !container.is_mov_family() || container.name() == "ismv" {
        return options;
    }
    let keys: Vec<String> = options.iter().map(|(k, _)| k.clone()).collect();
    let given = |key: &str| keys.iter().any(|k| k == key);
    let flags = match options.iter().rev().find(|(k, _)| k == "movflags") {
        Some((_, OptionValue::Str(flags))) => set_flags(flags),
        Some(_) => return options, // a numeric movflags: the caller's own bit mask
        None => Vec::new(),
    };
    let has = |names: &[&str]| flags.iter().any(|f| names.contains(&f.as_str()));
    let fragmented = has(FRAGMENTING) || given("frag_duration") || given("frag_size");
    if !fragmented {
        return options;
    }
    if !given("frag_duration") && !given("frag_size") && !has(&["frag_every_frame", "frag_custom"]) {
        options.push(("frag_duration".into(), OptionValue::Num(FRAGMENT_US)));
    }
    if !has(OWN_TIMING) && !given("use_editlist") {
        match options.iter_mut().rev().find(|(k, _)| k == "movflags") {
            Some((_, OptionValue::Str(flags))) => flags.push_str("+delay_moov"),
            _ => options.push(("movflags".into(), OptionValue::Str("+delay_moov".into()))),
        }
    }
    options
}

/// The flags a flags string leaves set: `a+b-c` / `+a+b-c` (FFmpeg's syntax; `-x` clears x).
fn set_flags(flags: &str) -> Vec<String> {
    let mut set: Vec<String> = Vec::new();
    let mut sign = '+';
    let mut name = String::new();
    let mut apply = |sign: char, name: &mut String| {
        if !name.is_empty() {
            let flag = std::mem::take(name);
            set.retain(|f| *f != flag);
            if sign == '+' {
                set.push(flag);
            }
        }
    };
    for c in flags.trim().chars() {
        if c == '+' || c == '-' {
            apply(sign, &mut name);
            sign = c;
        } else {
            name.push(c);
        }
    }
    apply(sign, &mut name);
    set
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(format: &str, given: &[(&str, OptionValue)]) -> Vec<(String, OptionValue)> {
        let options = given.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        with_fragment_defaults(&Container::resolve(format).unwrap(), options)
    }

    fn s(v: &str) -> OptionValue {
        OptionValue::Str(v.into())
    }

    #[test]
    fn fragmented_mp4_gets_one_second_fragments_and_an_edit_list() {
        let out = with("mp4", &[("movflags", s("+frag_keyframe+empty_moov+default_base_moof"))]);
        assert_eq!(
            out,
            vec![
                ("movflags".to_string(), s("+frag_keyframe+empty_moov+default_base_moof+delay_moov")),
                ("frag_duration".to_string(), OptionValue::Num(1e6)),
            ]
        );
    }

    #[test]
    fn the_callers_choices_are_kept() {
        let mine = [("movflags", s("frag_keyframe+empty_moov")), ("frag_duration", OptionValue::Num(5e5))];
        assert_eq!(with("mov", &mine)[1], ("frag_duration".to_string(), OptionValue::Num(5e5)));
        assert_eq!(with("mov", &mine).len(), 2, "{:?}", with("mov", &mine));
        let every = with("mp4", &[("movflags", s("+frag_every_frame+empty_moov"))]);
        assert!(!every.iter().any(|(k, _)| k == "frag_duration"), "{every:?}");
        let cmaf = with("mp4", &[("movflags", s("+cmaf+frag_keyframe"))]);
        assert_eq!(cmaf[0].1, s("+cmaf+frag_keyframe"), "cmaf keeps its own timing");
        let editlist = with("mp4", &[("movflags", s("+frag_keyframe")), ("use_editlist", OptionValue::Num(0.0))]);
        assert_eq!(editlist[0].1, s("+frag_keyframe"));
    }

    #[test]
    fn other_outputs_are_left_alone() {
        assert!(with("mp4", &[]).is_empty());
        assert_eq!(with("mp4", &[("movflags", s("+faststart"))]).len(), 1);
        assert_eq!(with("mp4", &[("movflags", s("+frag_keyframe-frag_keyframe"))]).len(), 1, "a flag set and cleared");
        assert_eq!(with("mkv", &[("live", OptionValue::Bool(true))]).len(), 1);
        let by_size = with("mp4", &[("frag_size", OptionValue::Num(100000.0))]);
        assert_eq!(by_size[1], ("movflags".to_string(), s("+delay_moov")), "{by_size:?}");
    }
}
