import ONNXExportIR

extension ALBERT {
    /// Google's original TensorFlow ALBERT (google-research/albert `modeling.py`,
    /// `run_pretraining.py`, `classifier_utils.py`, `squad_utils.py`; the `model.ckpt-best`
    /// releases) under the names transformers 4's `load_tf_weights_in_albert` gives them, as
    /// `AlbertForPreTraining.save_pretrained` writes them (the tied `predictions.decoder.*` are
    /// not written). Kernels are `[in, out]` (transposed); embeddings and `output_weights` are not.
    /// Checkpoints saved through a TF-Hub module carry `module/` before every name, which the
    /// loader strips wherever it appears. Optimizer slots (`adam_m`, `adam_v`, LAMB's) and
    /// `global_step` match no rule and are left out.
    static let googleNames = NameTable([
        NameRule("bert/embeddings/word_embeddings", "albert.embeddings.word_embeddings.weight"),
        NameRule("bert/embeddings/token_type_embeddings", "albert.embeddings.token_type_embeddings.weight"),
        NameRule("bert/embeddings/position_embeddings", "albert.embeddings.position_embeddings.weight"),
        NameRule("bert/embeddings/LayerNorm/gamma", "albert.embeddings.LayerNorm.weight"),
        NameRule("bert/embeddings/LayerNorm/beta", "albert.embeddings.LayerNorm.bias"),
        // transformer_model(): only written when embedding_size != hidden_size.
        NameRule("bert/encoder/embedding_hidden_mapping_in/kernel", "albert.encoder.embedding_hidden_mapping_in.weight", .transpose),
        NameRule("bert/encoder/embedding_hidden_mapping_in/bias", "albert.encoder.embedding_hidden_mapping_in.bias"),
        // attention_ffn_block() in group {g}, inner layer {j}: attention_1 (self/query|key|value,
        // output/dense), LayerNorm after the attention, ffn_1 (intermediate/dense, intermediate/output/dense),
        // LayerNorm_1 after the feed-forward.
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/self/query/kernel",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.query.weight", .transpose),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/self/query/bias",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.query.bias"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/self/key/kernel",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.key.weight", .transpose),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/self/key/bias",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.key.bias"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/self/value/kernel",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.value.weight", .transpose),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/self/value/bias",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.value.bias"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/output/dense/kernel",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.dense.weight", .transpose),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/attention_1/output/dense/bias",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.dense.bias"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/LayerNorm/gamma",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.LayerNorm.weight"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/LayerNorm/beta",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.attention.LayerNorm.bias"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/ffn_1/intermediate/dense/kernel",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.ffn.weight", .transpose),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/ffn_1/intermediate/dense/bias",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.ffn.bias"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/ffn_1/intermediate/output/dense/kernel",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.ffn_output.weight", .transpose),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/ffn_1/intermediate/output/dense/bias",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.ffn_output.bias"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/LayerNorm_1/gamma",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.full_layer_layer_norm.weight"),
        NameRule("bert/encoder/transformer/group_{g}/inner_group_{j}/LayerNorm_1/beta",
                 "albert.encoder.albert_layer_groups.{g}.albert_layers.{j}.full_layer_layer_norm.bias"),
        NameRule("bert/pooler/dense/kernel", "albert.pooler.weight", .transpose),
        NameRule("bert/pooler/dense/bias", "albert.pooler.bias"),
        // get_masked_lm_output(): the decoder is the word embeddings, only its bias is stored.
        NameRule("cls/predictions/transform/dense/kernel", "predictions.dense.weight", .transpose),
        NameRule("cls/predictions/transform/dense/bias", "predictions.dense.bias"),
        NameRule("cls/predictions/transform/LayerNorm/gamma", "predictions.LayerNorm.weight"),
        NameRule("cls/predictions/transform/LayerNorm/beta", "predictions.LayerNorm.bias"),
        NameRule("cls/predictions/output_bias", "predictions.bias"),
        // get_sentence_order_output(): the sentence-order head, `[2, hidden]` as nn.Linear stores it.
        NameRule("cls/seq_relationship/output_weights", "sop_classifier.classifier.weight"),
        NameRule("cls/seq_relationship/output_bias", "sop_classifier.classifier.bias"),
        // classifier_utils.py's fine-tuning head, `[labels, hidden]`.
        NameRule("output_weights", "classifier.weight"),
        NameRule("output_bias", "classifier.bias"),
        // squad_utils.py (v1): the loader sends `squad` to `classifier`, not to `qa_outputs`.
        NameRule("cls/squad/output_weights", "classifier.weight"),
        NameRule("cls/squad/output_bias", "classifier.bias"),
    ], optionalPrefixes: ["module/"])
}
