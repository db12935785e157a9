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

    @Test func productsAreExactWithAFixedSideOrTwoPlainSymbols() {
        #expect((Dim.batchSize * Dim.fixed(3)).description == "3*batch_size")
        // Multiple choice's flattened rows: one symbol for the product, the same either way round.
        #expect((Dim.batchSize * Dim.symbol("num_choices")).description == "batch_size*num_choices")
        #expect(Dim.symbol("num_choices") * Dim.batchSize == Dim.batchSize * Dim.symbol("num_choices"))
        #expect(!((Dim.batchSize + 1) * Dim.sequenceLength).isKnown)
        #expect(!((Dim.batchSize * 2) * Dim.sequenceLength).isKnown)
        #expect((Dim.batchSize * 4).divided(by: 2) == Dim.batchSize * 2)
        #expect(!Dim.batchSize.divided(by: 2).isKnown)
    }
}
