//! Frames in host memory, shared (not copied) with whoever owns the bytes, read in place.

use std::sync::Arc;

use crate::core::convert::{Converter, FrameFormat};
use crate::core::error::{EncodeError, Result};
use crate::core::picture::{FrameGeometry, InputPixels, Layout, RgbPicture};

use super::{Device, FrameConverter, FrameSource, SourceFrame};

/// Bytes that stay valid and unchanged while encodes read them (a JS typed array, a `Vec`, …).
pub trait HostBytes: Send + Sync {
    fn bytes(&self) -> &[u8];
}

impl HostBytes for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// Frames in host memory, shared (not copied) with whoever owns the bytes.
#[derive(Clone)]
pub struct HostFrames {
    bytes: Arc<dyn HostBytes>,
    geometry: FrameGeometry,
}

impl HostFrames {
    /// Validates `shape` against `layout` and the byte length of `bytes`.
    pub fn new(bytes: Arc<dyn HostBytes>, shape: [i64; 4], layout: Layout) -> Result<HostFrames> {
        let geometry = FrameGeometry::new(shape, layout)?;
        geometry.check_len(bytes.bytes().len(), shape)?;
        Ok(HostFrames { bytes, geometry })
    }

    /// Frame `index` (< `geometry().count`) as host planes, read in place.
    pub fn picture(&self, index: usize) -> RgbPicture<'_> {
        let frame_len = self.geometry.frame_bytes();
        RgbPicture::of_frame(&self.bytes.bytes()[index * frame_len..(index + 1) * frame_len], &self.geometry)
    }
}

impl FrameSource for HostFrames {
    fn geometry(&self) -> FrameGeometry {
        self.geometry
    }

    fn device(&self) -> Device {
        Device::Cpu
    }

    fn frame(&self, index: usize) -> SourceFrame<'_> {
        SourceFrame::Host(self.picture(index))
    }
}

/// Converts host frames on the CPU.
pub struct HostConverter {
    converter: Converter,
    format: FrameFormat,
}

impl HostConverter {
    pub fn new(input: InputPixels, format: &FrameFormat) -> Result<HostConverter> {
        Ok(HostConverter { converter: format.converter(input)?, format: format.clone() })
    }
}

impl FrameConverter for HostConverter {
    fn convert(&mut self, frame: SourceFrame<'_>, dst: &mut ffmpeg_next::frame::Video) -> Result<()> {
        let SourceFrame::Host(picture) = frame else {
            return Err(EncodeError::invalid_value("frames on a GPU were given to an encode of host frames"));
        };
        self.format.prepare(dst)?;
        self.converter.convert(&picture, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_mismatch_names_both_numbers() {
        let err = HostFrames::new(Arc::new(vec![0u8; 100]), [1, 3, 8, 8], Layout::Nchw).err().unwrap();
        assert!(err.message.contains("100") && err.message.contains("192"), "{}", err.message);
    }

    #[test]
    fn nchw_planes_are_taken_in_gbrp_order() {
        let (h, w) = (2, 3);
        let mut data = vec![0u8; 2 * 3 * h * w];
        // frame 1: R plane = 1, G plane = 2, B plane = 3
        let f1 = &mut data[3 * h * w..];
        f1[..h * w].fill(1);
        f1[h * w..2 * h * w].fill(2);
        f1[2 * h * w..].fill(3);
        let frames = HostFrames::new(Arc::new(data), [2, 3, h as i64, w as i64], Layout::Nchw).unwrap();
        let pic = frames.picture(1);
        assert_eq!(pic.pixels, InputPixels::PlanarRgb);
        assert!(pic.planes[0].iter().all(|&v| v == 2), "G first");
        assert!(pic.planes[1].iter().all(|&v| v == 3), "B second");
        assert!(pic.planes[2].iter().all(|&v| v == 1), "R third");
        assert_eq!(pic.strides, [w, w, w]);
    }
}
