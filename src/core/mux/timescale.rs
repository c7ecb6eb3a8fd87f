//! mp4/mov with an audio track: the movie timescale is the audio's sample rate.
//!
//! Why: the mov muxer writes the edit lists' durations (which trim the audio's priming and end padding)
//! in the movie timescale, 1000 by default: an audio track of 62 345 samples at 48 kHz was stored as
//! 1.299 s = 62 352 samples. At the sample rate the edit list says exactly how many samples there are
//! (and a video's frame durations at 24/25/30/50/60 fps stay exact too). A caller's `movie_timescale` is kept.

use super::container::Container;
use crate::core::encoder::settings::OptionValue;

/// `options` (the muxer's) with `movie_timescale` = `audio_rate` for the mov family, unless given.
pub fn with_audio_timescale(
    container: &Container,
    mut options: Vec<(String, OptionValue)>,
    audio_rate: Option<u32>,
) -> Vec<(String, OptionValue)> {
    let Some(rate) = audio_rate else { return options };
    if container.is_mov_family() && !options.iter().any(|(k, _)| k == "movie_timescale") {
        options.push(("movie_timescale".into(), OptionValue::Num(rate as f64)));
    }
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audio_rate_becomes_the_movie_timescale_unless_given() {
        let mp4 = Container::resolve("mp4").unwrap();
        let set = with_audio_timescale(&mp4, Vec::new(), Some(44100));
        assert_eq!(set, vec![("movie_timescale".to_string(), OptionValue::Num(44100.0))]);
        let given = vec![("movie_timescale".to_string(), OptionValue::Num(600.0))];
        assert_eq!(with_audio_timescale(&mp4, given.clone(), Some(44100)), given);
        assert!(with_audio_timescale(&mp4, Vec::new(), None).is_empty());
        assert!(with_audio_timescale(&Container::resolve("mkv").unwrap(), Vec::new(), Some(48000)).is_empty());
    }
}
