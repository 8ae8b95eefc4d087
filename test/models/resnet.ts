import { GraphBuilder } from './graph-builder';

export interface ResNetOptions {
  /** Channels of the first stage; 64 is the real ResNet-18 (~11.7M parameters). (Default: 64) */
  width?: number;
  /** (Default: 224) */
  imageSize?: number;
  /** (Default: 1000) */
  classes?: number;
  /** A symbolic 'batch' first dim, or a fixed 1. (Default: true) */
  dynamicBatch?: boolean;
  /** (Default: 18) */
  seed?: number;
}

/**
 * ResNet-18 as torchvision builds it: conv7x7/s2 + BN + ReLU + maxpool, four stages of two
 * BasicBlocks (residual Add, 1x1 projection where the shape changes), global pool, Gemm.
 */
export function resnet18(options: ResNetOptions = {}): Buffer {
  const { width = 64, imageSize = 224, classes = 1000, dynamicBatch = true, seed = 18 } = options;
  const g = new GraphBuilder(seed);
  const batch = dynamicBatch ? 'batch' : 1;
  const input = g.input('input', 'float', [batch, 3, imageSize, imageSize]);
  const stem = g.node('Relu', [g.convBn(input, 3, width, 7, 2)]);
  let x = g.node('MaxPool', [stem], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
  let channels = width;
  [1, 2, 4, 8].forEach((multiple, stage) => {
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      x = basicBlock(g, x, channels, width * multiple, stride);
      channels = width * multiple;
    }
  });
  g.classifier(x, channels, classes, 'logits');
  g.output('logits', 'float', [batch, classes]);
  return g.toModel({ graphName: 'resnet18' });
}

function basicBlock(g: GraphBuilder, x: string, inChannels: number, outChannels: number, stride: number): string {
  const a = g.node('Relu', [g.convBn(x, inChannels, outChannels, 3, stride)]);
  const b = g.convBn(a, outChannels, outChannels, 3);
  const shortcut = stride !== 1 || inChannels !== outChannels ? g.convBn(x, inChannels, outChannels, 1, stride) : x;
  return g.node('Relu', [g.node('Add', [b, shortcut])]);
}
