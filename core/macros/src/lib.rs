//! # brisk-macros
//!
//! `#[brisk::task]` turns a plain function into a registered Brisk op.
//!
//! ```text
//! #[brisk::task]
//! fn scale(xs: &Vec<f64>, #[bound] factor: f64) -> Vec<f64> {
//!     xs.iter().map(|x| x * factor).collect()
//! }
//! // The function stays callable as it was; next to it a module of the same name
//! // holds the op (`scale::NAME`, `scale::op(factor)`) and a lazy call:
//! let ys = scale::delayed(xs, 2.0)?;   // xs: a Delayed<Vec<f64>> or a Vec<f64>
//! ```
//!
//! Parameters are task inputs (results of other tasks, or literal values that become
//! tasks of their own), except those marked `#[bound]`: these are part of the op
//! itself (partial application), serialised with serde so a worker process can
//! rebuild the op, and hashed into the task's token. A parameter of type `&T` borrows
//! the input without a copy; `&[T]` reads a `Vec<T>` result and `&str` a `String`.
//! A function returning `Result<T, E>` with `E: Display` fails its task with `E`'s
//! message.
//!
//! The op is registered at link time under `module_path!()` of the function (for
//! example `my_crate::stats::scale`), so every process running the same executable
//! finds it by name.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote};
use syn::{
    parse_macro_input, spanned::Spanned, FnArg, GenericArgument, ItemFn, Pat, PathArguments,
    ReturnType, Type,
};

/// Registers a plain function as a Brisk op; see the crate docs.
#[proc_macro_attribute]
pub fn task(attr: TokenStream, item: TokenStream) -> TokenStream {
    if !attr.is_empty() {
        return syn::Error::new(Span::call_site(), "#[brisk::task] takes no arguments")
            .to_compile_error()
            .into();
    }
    let func = parse_macro_input!(item as ItemFn);
    match expand(func) {
        Ok(ts) => ts.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn krate() -> syn::Result<TokenStream2> {
    use proc_macro_crate::{crate_name, FoundCrate};
    for name in ["brisk", "brisk-collections"] {
        match crate_name(name) {
            Ok(FoundCrate::Itself) => {
                let id = format_ident!("{}", name.replace('-', "_"));
                return Ok(quote!(::#id));
            }
            Ok(FoundCrate::Name(n)) => {
                let id = format_ident!("{}", n);
                return Ok(quote!(::#id));
            }
            Err(_) => continue,
        }
    }
    Err(syn::Error::new(
        Span::call_site(),
        "#[brisk::task] needs the `brisk` crate as a dependency",
    ))
}

/// How an input parameter reads its value.
enum Access {
    /// `T`: cloned out of the shared result.
    Owned,
    /// `&T`: borrowed.
    Ref,
    /// `&[T]` from a `Vec<T>`.
    Slice,
    /// `&str` from a `String`.
    Str,
}

struct Input {
    name: syn::Ident,
    /// The type of the result the input reads.
    value_ty: Type,
}

fn expand(mut func: ItemFn) -> syn::Result<TokenStream2> {
    let krate = krate()?;
    let sig = &func.sig;
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a #[brisk::task] function cannot be generic: register one function per concrete type",
        ));
    }
    if sig.asyncness.is_some() {
        return Err(syn::Error::new(
            sig.span(),
            "a #[brisk::task] function cannot be async",
        ));
    }
    let fn_name = sig.ident.clone();
    let vis = func.vis.clone();

    let mut inputs: Vec<Input> = Vec::new();
    let mut bound: Vec<(syn::Ident, Type)> = Vec::new();
    let mut call_args: Vec<TokenStream2> = Vec::new();
    // The same call on one item `x` (for bags), bound parameters from `op.bound`.
    let mut item_args: Vec<TokenStream2> = Vec::new();
    // The same call on two values `a` and `b` (a bag's fold).
    let mut pair_args: Vec<TokenStream2> = Vec::new();
    let task_inputs = func
        .sig
        .inputs
        .iter()
        .filter(|a| match a {
            FnArg::Typed(pt) => !pt.attrs.iter().any(|a| a.path().is_ident("bound")),
            FnArg::Receiver(_) => true,
        })
        .count();
    // Functions of one or two inputs may be given to bags, over items that are not
    // task results.
    let over_items = task_inputs == 1 || task_inputs == 2;
    for arg in func.sig.inputs.iter_mut() {
        let FnArg::Typed(pt) = arg else {
            return Err(syn::Error::new(
                arg.span(),
                "a #[brisk::task] function cannot take self",
            ));
        };
        let is_bound = pt.attrs.iter().any(|a| a.path().is_ident("bound"));
        pt.attrs.retain(|a| !a.path().is_ident("bound"));
        let Pat::Ident(pi) = &*pt.pat else {
            return Err(syn::Error::new(
                pt.pat.span(),
                "task parameters must be plain names",
            ));
        };
        let name = pi.ident.clone();
        let ty = (*pt.ty).clone();
        if is_bound {
            let index = syn::Index::from(bound.len());
            call_args.push(quote!(::std::clone::Clone::clone(&self.bound.#index)));
            item_args.push(quote!(::std::clone::Clone::clone(&op.bound.#index)));
            pair_args.push(quote!(::std::clone::Clone::clone(&op.bound.#index)));
            bound.push((name, ty));
            continue;
        }
        let i = inputs.len();
        let (value_ty, access) = match &ty {
            Type::Reference(r) => {
                if r.mutability.is_some() {
                    return Err(syn::Error::new(
                        r.span(),
                        "task inputs are shared: take `&T`, not `&mut T`",
                    ));
                }
                match &*r.elem {
                    Type::Slice(s) => {
                        let e = &s.elem;
                        (syn::parse_quote!(::std::vec::Vec<#e>), Access::Slice)
                    }
                    Type::Path(p) if p.path.is_ident("str") => {
                        (syn::parse_quote!(::std::string::String), Access::Str)
                    }
                    other => (other.clone(), Access::Ref),
                }
            }
            other => (other.clone(), Access::Owned),
        };
        let vt = &value_ty;
        // A function of one or two inputs may be over bag items that are not task
        // results: it reads through a probe (an error when run as a task of its
        // own); others need task result types, which the compiler checks.
        let read = if over_items {
            quote!((&__core::value::probe::Probe::<#vt>::new()).input(&inputs[#i], NAME)?)
        } else {
            quote!(inputs[#i].expect_ref::<#vt>()?)
        };
        call_args.push(match access {
            Access::Owned => quote!(::std::clone::Clone::clone(#read)),
            Access::Ref => quote!(#read),
            Access::Slice => quote!(#read.as_slice()),
            Access::Str => quote!(#read.as_str()),
        });
        item_args.push(match access {
            Access::Owned => quote!(::std::clone::Clone::clone(x)),
            Access::Ref => quote!(x),
            Access::Slice => quote!(x.as_slice()),
            Access::Str => quote!(x.as_str()),
        });
        let v = if i == 0 { quote!(a) } else { quote!(b) };
        pair_args.push(match access {
            Access::Owned => quote!(::std::clone::Clone::clone(#v)),
            Access::Ref => quote!(#v),
            Access::Slice => quote!(#v.as_slice()),
            Access::Str => quote!(#v.as_str()),
        });
        inputs.push(Input { name, value_ty });
    }

    let (out_ty, fallible) = match &func.sig.output {
        ReturnType::Default => (syn::parse_quote!(()), false),
        ReturnType::Type(_, ty) => match result_ok_type(ty) {
            Some(ok) => (ok, true),
            None => ((**ty).clone(), false),
        },
    };

    let n_inputs = inputs.len();
    let bound_names: Vec<_> = bound.iter().map(|(n, _)| n.clone()).collect();
    let bound_tys: Vec<_> = bound.iter().map(|(_, t)| t.clone()).collect();
    let input_names: Vec<_> = inputs.iter().map(|i| i.name.clone()).collect();
    let input_tys: Vec<_> = inputs.iter().map(|i| i.value_ty.clone()).collect();
    let result = if fallible {
        quote!(super::#fn_name(#(#call_args),*).map_err(#krate::__private::core::Error::user)?)
    } else {
        quote!(super::#fn_name(#(#call_args),*))
    };
    let boxed = if over_items {
        quote! {
            #[allow(unused_imports)]
            use __core::value::probe::{Input as _, InputUnfit as _, Output as _, OutputUnfit as _};
            let out: #out_ty = #result;
            (&__core::value::probe::Probe::<#out_ty>::new()).output(out, NAME)
        }
    } else {
        quote! {
            let out: #out_ty = #result;
            Ok(::std::sync::Arc::new(out) as __core::Value)
        }
    };
    let bag_items = if n_inputs == 1 {
        let in_ty = &inputs[0].value_ty;
        let item_result = if fallible {
            quote!(super::#fn_name(#(#item_args),*).map_err(__core::Error::user))
        } else {
            quote!(Ok(super::#fn_name(#(#item_args),*)))
        };
        quote! {
            /// The function as a typed [`TaskFn`](#krate::__private::TaskFn), with these
            /// bound parameters, for collection methods that take user code (Bag
            /// `map`, `filter`, `flat_map`, `map_partitions`, `topk`, `groupby`;
            /// DataFrame `map_partitions`, `groupby(..).apply`; Array `map_blocks`;
            /// `Delayed::then`): the task runs on any scheduler.
            pub fn task_fn(#(#bound_names: #bound_tys),*) -> #krate::__private::TaskFn<#in_ty, #out_ty> {
                #krate::__private::TaskFn::new(self::op(#(#bound_names),*))
            }

            fn __apply(
                how: #krate::__private::task_fn::Apply,
                params: &[u8],
                partition: &__core::Value,
            ) -> __core::Result<__core::Value> {
                use #krate::__private::task_fn::{Apply, probe::*};
                let op = Op {
                    bound: #krate::__private::rmp_serde::from_slice(params).map_err(|e| __core::Error::OpParams {
                        op: NAME.to_string(),
                        message: e.to_string(),
                    })?,
                };
                let f = |x: &#in_ty| -> __core::Result<#out_ty> { #item_result };
                let probe = &Probe::<#in_ty, #out_ty>::new();
                match how {
                    Apply::Map | Apply::Filter => probe.items(how, partition, &f),
                    Apply::FlatMap => probe.flat(partition, &f),
                    Apply::Partitions => probe.whole(partition, &f),
                    Apply::TopK { k } => probe.top(k, partition, &f),
                    Apply::GroupSplit { m } => probe.split(m, partition, &f),
                    Apply::Group { j } => probe.group(j, partition, &f),
                    Apply::Frame => probe.frame(partition, &f),
                    Apply::Reduce => probe.reduce(partition, &f),
                    Apply::Aggregate => probe.aggregate(partition, &f),
                    Apply::Concat => probe.concat(partition, &f),
                }
            }

            #krate::__private::inventory::submit! {
                #krate::__private::task_fn::ApplyRegistration { name: NAME, apply: __apply }
            }
        }
    } else if n_inputs == 2 {
        let (a_ty, b_ty) = (&inputs[0].value_ty, &inputs[1].value_ty);
        let pair_result = if fallible {
            quote!(super::#fn_name(#(#pair_args),*).map_err(__core::Error::user))
        } else {
            quote!(Ok(super::#fn_name(#(#pair_args),*)))
        };
        quote! {
            /// The function as a typed [`TaskFn2`](#krate::__private::TaskFn2), with
            /// these bound parameters, for a bag's `fold` (its `binop` or `combine`):
            /// the task runs on any scheduler.
            pub fn task_fn(#(#bound_names: #bound_tys),*) -> #krate::__private::TaskFn2<#a_ty, #b_ty, #out_ty> {
                #krate::__private::TaskFn2::new(self::op(#(#bound_names),*))
            }

            fn __apply2(
                how: #krate::__private::task_fn2::Apply2,
                params: &[u8],
                init: &[u8],
                inputs: &[__core::Value],
            ) -> __core::Result<__core::Value> {
                use #krate::__private::task_fn2::{Apply2, probe2::*};
                let op = Op {
                    bound: #krate::__private::rmp_serde::from_slice(params).map_err(|e| __core::Error::OpParams {
                        op: NAME.to_string(),
                        message: e.to_string(),
                    })?,
                };
                let f = |a: &#a_ty, b: &#b_ty| -> __core::Result<#out_ty> { #pair_result };
                let probe = &Probe2::<#a_ty, #b_ty, #out_ty>::new();
                match how {
                    Apply2::Fold | Apply2::FoldGroups => probe.fold(how, init, inputs, &f),
                    Apply2::Combine | Apply2::CombineGroups => probe.combine(how, init, inputs, &f),
                }
            }

            #krate::__private::inventory::submit! {
                #krate::__private::task_fn2::Apply2Registration { name: NAME, apply: __apply2 }
            }
        }
    } else {
        quote!()
    };
    let doc = format!(
        "The registered op of [`{fn_name}`](fn@super::{fn_name}) and its lazy call (made by `#[brisk::task]`)."
    );

    Ok(quote! {
        #func

        #[doc = #doc]
        #[allow(non_snake_case, non_camel_case_types, dead_code, unused_imports, clippy::all)]
        #vis mod #fn_name {
            use super::*;
            use #krate::__private::core as __core;

            /// The stable name the op is registered under.
            pub const NAME: &str = module_path!();

            /// The op, with its bound parameters.
            pub struct Op {
                bound: (#(#bound_tys,)*),
            }

            impl __core::op::Op for Op {
                fn name(&self) -> &str {
                    NAME
                }
                fn tokenize_params(&self, h: &mut __core::token::Hasher) -> __core::Result<()> {
                    __core::token::Tokenize::tokenize(&self.bound, h)
                }
                fn params(&self) -> __core::Result<::std::vec::Vec<u8>> {
                    #krate::__private::rmp_serde::to_vec(&self.bound).map_err(|e| __core::Error::OpParams {
                        op: NAME.to_string(),
                        message: e.to_string(),
                    })
                }
                fn call(&self, inputs: &[__core::Value]) -> __core::Result<__core::Value> {
                    if inputs.len() != #n_inputs {
                        return Err(__core::Error::Arity { op: NAME.to_string(), expected: #n_inputs, found: inputs.len() });
                    }
                    #boxed
                }
            }

            #krate::__private::inventory::submit! {
                __core::op::OpRegistration {
                    name: NAME,
                    rebuild: |bytes| {
                        let bound = #krate::__private::rmp_serde::from_slice(bytes).map_err(|e| __core::Error::OpParams {
                            op: NAME.to_string(),
                            message: e.to_string(),
                        })?;
                        Ok(::std::sync::Arc::new(Op { bound }) as ::std::sync::Arc<dyn __core::op::Op>)
                    },
                }
            }

            /// The op with these bound parameters.
            pub fn op(#(#bound_names: #bound_tys),*) -> ::std::sync::Arc<dyn __core::op::Op> {
                ::std::sync::Arc::new(Op { bound: (#(#bound_names,)*) })
            }

            #bag_items

            /// A lazy call: each input is a `Delayed` result or a literal value.
            pub fn delayed(
                #(#input_names: impl #krate::__private::IntoArg<#input_tys>,)*
                #(#bound_names: #bound_tys),*
            ) -> __core::Result<#krate::__private::Delayed<#out_ty>> {
                #krate::__private::delayed_call(
                    self::op(#(#bound_names),*),
                    ::std::vec![#(#krate::__private::IntoArg::into_arg(#input_names)?),*],
                )
            }
        }
    })
}

/// `Result<T, E>` → `T` (by the last path segment's name).
fn result_ok_type(ty: &Type) -> Option<Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != "Result" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t.clone()),
        _ => None,
    }
}
