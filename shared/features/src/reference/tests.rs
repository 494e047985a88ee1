use super::*;

#[test]
fn distinct_values_fall_a_tenth_in_each_decile_bin() {
    let reference = feature_reference("x", (1..=100).map(f64::from)).unwrap();
    assert_eq!(
        reference.edges,
        vec![10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    );
    assert_eq!(reference.shares, vec![0.1; 10]);
    assert_eq!(
        (reference.min, reference.max, reference.rows),
        (1.0, 100.0, 100)
    );
    assert_eq!(reference.mean, 50.5);
    assert!((reference.std - (9_999.0_f64 / 12.0).sqrt()).abs() < 1e-12);
}

#[test]
fn a_constant_feature_has_no_edges_and_one_bin() {
    let reference = feature_reference("x", [4.0; 50]).unwrap();
    assert!(reference.edges.is_empty());
    assert_eq!(reference.shares, vec![1.0]);
    assert_eq!(
        (reference.min, reference.max, reference.std),
        (4.0, 4.0, 0.0)
    );
}

#[test]
fn equal_quantiles_merge_and_shares_are_counted_under_the_bin_rule() {
    // 70 zeros, 20 ones, 10 twos: the deciles are 0 (x7), 1 (x2); 2 is the maximum.
    let values = [vec![0.0; 70], vec![1.0; 20], vec![2.0; 10]].concat();
    let reference = feature_reference("x", values).unwrap();
    assert_eq!(reference.edges, vec![0.0, 1.0]);
    assert_eq!(reference.shares, vec![0.7, 0.2, 0.1]);
    assert_eq!(reference.bin_of(0.0), 0);
    assert_eq!(reference.bin_of(0.5), 1);
    assert_eq!(reference.bin_of(2.0), 2);
}

#[test]
fn an_edge_at_the_maximum_is_dropped_so_no_bin_is_empty() {
    // The top 30 % are all 9: the 8th and 9th deciles are the maximum.
    let values = [(1..=70).map(f64::from).collect(), vec![99.0; 30]].concat();
    let reference = feature_reference("x", values).unwrap();
    assert_eq!(*reference.edges.last().unwrap(), 70.0);
    assert!(reference.shares.iter().all(|share| *share > 0.0));
    assert_eq!(*reference.shares.last().unwrap(), 0.3);
}

#[test]
fn missing_values_are_skipped_and_none_left_gives_no_reference() {
    let with_gaps = [1.0, f64::NAN, 2.0, f64::INFINITY, 3.0, f64::NEG_INFINITY];
    let reference = feature_reference("x", with_gaps).unwrap();
    assert_eq!(reference, feature_reference("x", [1.0, 2.0, 3.0]).unwrap());
    assert_eq!(reference.rows, 3);
    assert_eq!(feature_reference("x", [f64::NAN]), None);
    assert_eq!(feature_reference("x", []), None);
}
