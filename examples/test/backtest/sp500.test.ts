import { describe, expect, it } from 'vitest';
import { parseSp500Csv } from '../../src/backtest/sp500.js';

describe('parseSp500Csv', () => {
  it('reads the Date and SP500 columns', () => {
    expect(parseSp500Csv('Date,SP500,Dividend\n1871-01-01,4.44,0.26\n1871-02-01,4.5,0.26\n')).toEqual([
      { month: '1871-01', price: 4.44 },
      { month: '1871-02', price: 4.5 },
    ]);
  });

  it('rejects a missing column or a bad row, naming the line', () => {
    expect(() => parseSp500Csv('Date,Price\n')).toThrow('header must have Date and SP500');
    expect(() => parseSp500Csv('Date,SP500\n1871-01-01,0\n')).toThrow("line 2 ('1871-01-01,0')");
  });
});
