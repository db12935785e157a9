import Testing
@testable import ONNXExportIR

@Suite struct DimTests {
    @Test func symbolicSumsPrintAsONNXDimParams() {
        let total = Dim.pastSequenceLength + Dim.sequenceLength
        #expect(total.description == "past_sequence_length + sequence_length")
        #expect((Dim.sequenceLength + 0) == Dim.sequenceLength)
        #expect((Dim.fixed(3) + 4).fixedValue == 7)
        #expect((Dim.sequenceLength - Dim.sequenceLength).fixedValue == 0)
    }

    @Test func productsAreExactOnlyWithAFixedSide() {
        #expect((Dim.batchSize * Dim.fixed(3)).description == "3*batch_size")
        #expect(!(Dim.batchSize * Dim.sequenceLength).isKnown)
        #expect((Dim.batchSize * 4).divided(by: 2) == Dim.batchSize * 2)
        #expect(!Dim.batchSize.divided(by: 2).isKnown)
    }
}
