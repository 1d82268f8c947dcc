//! Bad input is an error that names what is wrong, found when the search is
//! planned (before any task runs) wherever the data allow.

use brisk_ml::model_selection::{GridSearchCV, KFold, ParameterGrid, PredefinedSplit};
use brisk_ml::{
    datasets, Error, Estimator, LogisticRegression, Pipeline, Ridge, StandardScaler, PCA,
};
use ndarray::{array, Array1};

fn pipe() -> Pipeline {
    Pipeline::new()
        .step("pca", PCA::default())
        .step("logistic", LogisticRegression::default())
}

fn plan_error(
    search: &GridSearchCV,
    x: ndarray::ArrayView2<f64>,
    y: ndarray::ArrayView1<f64>,
) -> Error {
    match search.plan(x, y) {
        Ok(_) => panic!("the search was planned"),
        Err(e) => e,
    }
}

#[test]
fn a_parameter_that_no_step_has_is_named_with_the_ones_that_exist() {
    let (x, y) = datasets::make_classification(40, 4, 2, 0, 2, 0);
    let s = GridSearchCV::new(pipe(), ParameterGrid::new().param("logistic__c", [1.0]));
    let e = plan_error(&s, x.view(), y.view());
    let text = e.to_string();
    assert!(
        matches!(e, Error::UnknownParameter { ref name, .. } if name == "logistic__c"),
        "{e:?}"
    );
    assert!(
        text.contains("logistic__C") && text.contains("pca__n_components"),
        "{text}"
    );
    let s = GridSearchCV::new(pipe(), ParameterGrid::new().param("svm__C", [1.0]));
    assert!(plan_error(&s, x.view(), y.view())
        .to_string()
        .contains("'svm__C'"));
}

#[test]
fn a_value_of_the_wrong_type_names_the_parameter() {
    let (x, y) = datasets::make_classification(40, 4, 2, 0, 2, 0);
    let s = GridSearchCV::new(
        pipe(),
        ParameterGrid::new().param("pca__n_components", ["two"]),
    );
    let e = plan_error(&s, x.view(), y.view());
    assert!(matches!(e, Error::InvalidParameter { .. }), "{e:?}");
    assert!(e.to_string().contains("PCA"), "{e}");
}

#[test]
fn an_empty_grid_is_an_error() {
    let (x, y) = datasets::make_classification(40, 4, 2, 0, 2, 0);
    let s = GridSearchCV::new(pipe(), ParameterGrid::new());
    assert!(matches!(
        plan_error(&s, x.view(), y.view()),
        Error::EmptyGrid { .. }
    ));
    let s = GridSearchCV::new(
        pipe(),
        ParameterGrid::new().param("logistic__C", Vec::<f64>::new()),
    );
    let e = plan_error(&s, x.view(), y.view()).to_string();
    assert_eq!(
        e,
        "the parameter grid is empty: parameter 'logistic__C' has no values"
    );
}

#[test]
fn x_and_y_of_different_lengths_are_an_error() {
    let (x, _) = datasets::make_classification(40, 4, 2, 0, 2, 0);
    let y = Array1::<f64>::zeros(39);
    let s = GridSearchCV::new(pipe(), ParameterGrid::new().param("logistic__C", [1.0]));
    assert_eq!(
        plan_error(&s, x.view(), y.view()).to_string(),
        "X has 40 rows but y has 39 values"
    );
}

#[test]
fn nan_in_the_input_is_reported_with_its_place() {
    let (mut x, y) = datasets::make_classification(40, 4, 2, 0, 2, 0);
    x[[7, 2]] = f64::NAN;
    let s = GridSearchCV::new(pipe(), ParameterGrid::new().param("logistic__C", [1.0]));
    let e = plan_error(&s, x.view(), y.view());
    assert!(
        matches!(
            e,
            Error::NotFinite {
                row: 7,
                column: 2,
                ..
            }
        ),
        "{e:?}"
    );
    // And in an eager fit.
    let e = Estimator::fit(&Ridge::default(), x.view(), Some(y.view())).unwrap_err();
    assert!(e.to_string().contains("row 7, column 2"), "{e}");
}

#[test]
fn a_fold_with_one_class_is_an_error_for_a_classifier() {
    let x = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]];
    let y = array![0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    // Fold 1 trains on rows 0..3 only: one class.
    let folds = PredefinedSplit(vec![
        (vec![0, 1, 3, 4], vec![2, 5]),
        (vec![0, 1, 2], vec![3, 4, 5]),
    ]);
    let s = GridSearchCV::new(
        Pipeline::of(LogisticRegression::default()),
        ParameterGrid::new().param("C", [1.0]),
    )
    .cv(folds);
    let e = plan_error(&s, x.view(), y.view());
    assert!(
        matches!(e, Error::OneClass { ref where_, .. } if where_ == "the training part of fold 1"),
        "{e:?}"
    );
    // A regressor does not mind.
    let r = GridSearchCV::new(
        Pipeline::of(Ridge::default()),
        ParameterGrid::new().param("alpha", [1.0]),
    )
    .cv(KFold::new(2));
    assert!(r.plan(x.view(), y.view()).is_ok());
}

#[test]
fn a_pipeline_whose_middle_step_predicts_is_an_error() {
    let p = Pipeline::new()
        .step("ridge", Ridge::default())
        .step("scale", StandardScaler::default());
    let e = p.validate().unwrap_err().to_string();
    assert!(
        e.contains("step 'ridge'") && e.contains("not a transformer"),
        "{e}"
    );
}

#[test]
fn an_op_given_the_wrong_number_of_inputs_is_an_error_not_a_panic() {
    use brisk_core::op::Op;
    use brisk_ml::model_selection::{Predict, Score, Transform};
    let x: brisk_core::Value =
        std::sync::Arc::new(ndarray::ArrayD::<f64>::zeros(ndarray::IxDyn(&[2, 2])));
    for op in [&Transform as &dyn Op, &Predict, &Score::new("accuracy")] {
        let e = op.call(std::slice::from_ref(&x)).unwrap_err();
        assert!(
            matches!(e, brisk_core::Error::Arity { found: 1, .. }),
            "{}: {e:?}",
            op.name()
        );
    }
}

#[test]
fn a_decoded_model_whose_parts_disagree_is_an_error_when_used() {
    use brisk_ml::{FittedLogisticRegression, Predictor};
    let model = FittedLogisticRegression {
        classes: vec![0.0, 1.0, 2.0],
        coef: vec![1.0, 2.0],
        intercept: vec![0.0],
        n_features: 2,
        n_iter: 1,
        multinomial: true,
    };
    let e = model.predict(array![[1.0, 2.0]].view()).unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e:?}");
}

#[test]
fn folds_that_overlap_or_name_missing_rows_are_errors() {
    let (x, y) = datasets::make_regression(10, 2, 2, 0.1, 1);
    let plan = |folds: Vec<(Vec<u32>, Vec<u32>)>| {
        GridSearchCV::new(
            Pipeline::of(Ridge::default()),
            ParameterGrid::new().param("alpha", [1.0]),
        )
        .cv(PredefinedSplit(folds))
        .plan(x.view(), y.view())
        .err()
        .map(|e| e.to_string())
    };
    let overlap = plan(vec![(vec![0, 1, 2, 3], vec![3, 4])]).unwrap();
    assert!(
        overlap.contains("names row 3 twice (in training and in test)"),
        "{overlap}"
    );
    let missing = plan(vec![(vec![0, 1], vec![10])]).unwrap();
    assert!(missing.contains("row 10"), "{missing}");
    assert!(plan(vec![(vec![0, 1, 2], vec![3, 4])]).is_none());
}

#[test]
fn minus_zero_and_zero_are_one_class() {
    use brisk_ml::Predictor;
    let x = array![[0.0], [0.1], [1.0], [1.1]];
    let y = array![-0.0, 0.0, 1.0, 1.0];
    let model = Estimator::fit(&LogisticRegression::default(), x.view(), Some(y.view())).unwrap();
    assert_eq!(model.classes, vec![0.0, 1.0]);
    assert_eq!(model.predict(array![[1.2]].view()).unwrap()[0], 1.0);
}
