/**
 * The first images of an image data set as a grid of small canvases, each with its label.
 * Pixels arrive as 8-bit values (grey or RGB, channels last) and are drawn at their own size,
 * scaled up by CSS with crisp edges.
 */

import { useEffect, useRef } from 'react';
import type { ImagePreview } from '../../engine/protocol/messages.js';

function Thumbnail({ images, index }: { images: ImagePreview; index: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = canvas.current?.getContext('2d');
    if (!ctx) return;
    const { width, height, channels, pixels } = images;
    const size = width * height * channels;
    const data = ctx.createImageData(width, height);
    for (let p = 0; p < width * height; p++) {
      const at = index * size + p * channels;
      const r = pixels[at]!;
      data.data[4 * p] = r;
      data.data[4 * p + 1] = channels >= 3 ? pixels[at + 1]! : r;
      data.data[4 * p + 2] = channels >= 3 ? pixels[at + 2]! : r;
      data.data[4 * p + 3] = 255;
    }
    ctx.putImageData(data, 0, 0);
  }, [images, index]);
  return (
    <canvas
      ref={canvas}
      className="wg-data__image"
      width={images.width}
      height={images.height}
      aria-hidden="true"
    />
  );
}

export function ImageGrid({
  images,
  classes,
}: {
  images: ImagePreview;
  classes: readonly string[];
}) {
  return (
    <ul className="wg-data__images">
      {Array.from({ length: images.count }, (_, i) => {
        const label = images.labels[i]!;
        return (
          <li key={i} className="wg-data__figure" data-label={label}>
            <Thumbnail images={images} index={i} />
            <span className="wg-data__label">{classes[label] ?? label}</span>
          </li>
        );
      })}
    </ul>
  );
}
