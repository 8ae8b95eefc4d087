import { GraphBuilder } from './graph-builder';

export interface MobileNetOptions {
  /** Scales every layer's channels; 1 is the real MobileNetV2 (~3.5M parameters). (Default: 1) */
  widthMultiplier?: number;
  /** (Default: 224) */
  imageSize?: number;
  /** (Default: 1000) */
  classes?: number;
  /** A symbolic 'batch' first dim, or a fixed 1. (Default: true) */
  dynamicBatch?: boolean;
  /** (Default: 2) */
  seed?: number;
}

/** torchvision's inverted residual settings: expansion t, channels c, repeats n, first stride s. */
const SETTINGS = [
  [1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1],
];

/**
 * MobileNetV2: conv3x3/s2, inverted residual blocks (1x1 expand + ReLU6, 3x3 depthwise conv
 * with group = channels + ReLU6, 1x1 project, residual Add when the shape is kept), conv1x1 to
 * 1280, global pool, Gemm. ReLU6 is Clip(0, 6), as PyTorch exports it.
 */
export function mobilenetV2(options: MobileNetOptions = {}): Buffer {
  const { widthMultiplier = 1, imageSize = 224, classes = 1000, dynamicBatch = true, seed = 2 } = options;
  const g = new GraphBuilder(seed);
  const relu6 = (x: string): string => g.node('Clip', [x, 'relu6.min', 'relu6.max']);
  g.scalar('relu6.min', 0);
  g.scalar('relu6.max', 6);
  const batch = dynamicBatch ? 'batch' : 1;
  const input = g.input('input', 'float', [batch, 3, imageSize, imageSize]);
  let channels = makeDivisible(32 * widthMultiplier);
  let x = relu6(g.convBn(input, 3, channels, 3, 2));
  for (const [t, c, n, s] of SETTINGS) {
    const outChannels = makeDivisible(c * widthMultiplier);
    for (let i = 0; i < n; i++) {
      const stride = i === 0 ? s : 1;
      const hidden = channels * t;
      let y = t === 1 ? x : relu6(g.convBn(x, channels, hidden, 1));
      y = relu6(g.convBn(y, hidden, hidden, 3, stride, hidden));
      y = g.convBn(y, hidden, outChannels, 1);
      x = stride === 1 && channels === outChannels ? g.node('Add', [x, y]) : y;
      channels = outChannels;
    }
  }
  const lastChannels = makeDivisible(1280 * Math.max(1, widthMultiplier));
  x = relu6(g.convBn(x, channels, lastChannels, 1));
  g.classifier(x, lastChannels, classes, 'logits');
  g.output('logits', 'float', [batch, classes]);
  return g.toModel({ graphName: 'mobilenet_v2' });
}

/** torchvision's _make_divisible: round to a multiple of 8, never more than 10% down. */
function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}
