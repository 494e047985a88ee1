//! Small constructors for the proto messages, so the graph code reads as a graph.

use crate::error::ExportError;
use crate::proto::{
    AttributeProto, AttributeType, DataType, Dimension, DimensionValue, NodeProto, TensorProto,
    TensorShapeProto, TensorTypeProto, TypeProto, TypeValue, ValueInfoProto,
};

/// ONNX stores every index and size as int64; usize always fits on the platforms we build for,
/// but the conversion is checked rather than assumed.
pub(crate) fn to_i64(value: usize, what: &'static str) -> Result<i64, ExportError> {
    i64::try_from(value).map_err(|_| ExportError::TooLarge { what, value })
}

pub(crate) fn node<const I: usize, const O: usize>(
    op_type: &str,
    domain: &str,
    name: &str,
    inputs: [&str; I],
    outputs: [&str; O],
    attribute: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| (*s).to_owned()).collect(),
        output: outputs.iter().map(|s| (*s).to_owned()).collect(),
        name: name.to_owned(),
        op_type: op_type.to_owned(),
        domain: domain.to_owned(),
        attribute,
        doc_string: String::new(),
    }
}

fn attribute(name: &str, kind: AttributeType) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: kind as i32,
        ..AttributeProto::default()
    }
}

pub(crate) fn attr_int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        i: value,
        ..attribute(name, AttributeType::Int)
    }
}

pub(crate) fn attr_string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        s: value.as_bytes().to_vec(),
        ..attribute(name, AttributeType::String)
    }
}

pub(crate) fn attr_ints(name: &str, values: Vec<i64>) -> AttributeProto {
    AttributeProto {
        ints: values,
        ..attribute(name, AttributeType::Ints)
    }
}

pub(crate) fn attr_floats(name: &str, values: Vec<f32>) -> AttributeProto {
    AttributeProto {
        floats: values,
        ..attribute(name, AttributeType::Floats)
    }
}

pub(crate) fn attr_strings(name: &str, values: Vec<&str>) -> AttributeProto {
    AttributeProto {
        strings: values.into_iter().map(|s| s.as_bytes().to_vec()).collect(),
        ..attribute(name, AttributeType::Strings)
    }
}

/// A float32 initializer; values are narrowed from the f64 the trainer produced.
pub(crate) fn float_tensor(name: &str, dims: Vec<i64>, values: &[f64]) -> TensorProto {
    TensorProto {
        name: name.to_owned(),
        dims,
        data_type: DataType::Float as i32,
        float_data: values.iter().map(|v| *v as f32).collect(),
        ..TensorProto::default()
    }
}

pub(crate) fn int64_tensor(name: &str, dims: Vec<i64>, values: Vec<i64>) -> TensorProto {
    TensorProto {
        name: name.to_owned(),
        dims,
        data_type: DataType::Int64 as i32,
        int64_data: values,
        ..TensorProto::default()
    }
}

/// One tensor dimension: `Ok(size)` fixed, `Err(name)` symbolic.
pub(crate) type Dim<'a> = Result<i64, &'a str>;

/// A float32 graph input/output declaration.
pub(crate) fn float_value_info(name: &str, dims: &[Dim<'_>], doc: String) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Ok(size) => DimensionValue::DimValue(*size),
                Err(param) => DimensionValue::DimParam((*param).to_owned()),
            }),
            denotation: String::new(),
        })
        .collect();
    ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TensorTypeProto {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            denotation: String::new(),
        }),
        doc_string: doc,
    }
}
