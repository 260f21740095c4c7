{{/* Chart name. */}}
{{- define "frost.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified release name, at most 40 characters so component suffixes stay under 63. */}}
{{- define "frost.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "frost.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: name + instance (+ component where given). */}}
{{- define "frost.selectorLabels" -}}
app.kubernetes.io/name: {{ include "frost.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The recommended labels on every object. */}}
{{- define "frost.labels" -}}
helm.sh/chart: {{ include "frost.chart" . }}
{{ include "frost.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: frost
{{- end -}}

{{- define "frost.coordinator.name" -}}{{ include "frost.fullname" . }}-coordinator{{- end -}}
{{- define "frost.signer.name" -}}{{ include "frost.fullname" .root }}-{{ .signer.id }}{{- end -}}

{{/* In-cluster DNS name of a signer: its certificate SAN, its token audience and its registry id. */}}
{{- define "frost.signer.host" -}}{{ include "frost.signer.name" . }}.{{ .root.Release.Namespace }}.svc{{- end -}}

{{/* signer.connectivity=signersDial: "true" when the signers connect to the coordinator (signer-dials mode). */}}
{{- define "frost.signersDial" -}}{{ if eq .Values.signer.connectivity "signersDial" }}true{{ end }}{{- end -}}
{{/* The headless Service through which signers reach every coordinator replica, and its in-cluster DNS name. */}}
{{- define "frost.coordinator.signersService" -}}{{ include "frost.coordinator.name" . }}-signers{{- end -}}
{{- define "frost.coordinator.signersHost" -}}{{ include "frost.coordinator.signersService" . }}.{{ .Release.Namespace }}.svc{{- end -}}

{{/* image reference: repository:tag[@digest]. Call with (dict "root" $ "image" .Values.x.image). */}}
{{- define "frost.image" -}}
{{- $tag := .root.Values.image.tag | default .root.Chart.AppVersion -}}
{{- if .image.digest -}}
{{- printf "%s:%s@%s" .image.repository $tag .image.digest -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* Hardened pod security context. */}}
{{- define "frost.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Hardened container security context. */}}
{{- define "frost.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Probes against the plain-HTTP ops port. */}}
{{- define "frost.probes" -}}
startupProbe:
  httpGet: { path: /healthz, port: ops }
  periodSeconds: 2
  failureThreshold: 30
livenessProbe:
  httpGet: { path: /healthz, port: ops }
  periodSeconds: 10
  timeoutSeconds: 2
  failureThreshold: 3
readinessProbe:
  httpGet: { path: /readyz, port: ops }
  periodSeconds: 5
  timeoutSeconds: 2
  failureThreshold: 2
{{- end -}}

{{/* Secret names of the mTLS material. */}}
{{- define "frost.tls.coordinator" -}}{{ include "frost.coordinator.name" . }}-tls{{- end -}}
{{- define "frost.tls.coordinatorClient" -}}{{ include "frost.coordinator.name" . }}-client-tls{{- end -}}
{{- define "frost.tls.testClient" -}}{{ include "frost.fullname" . }}-test-client-tls{{- end -}}

{{/* The dealer's public key package ConfigMap; empty when there is none (keys come from the signers). */}}
{{- define "frost.publicKeyPackage.configMap" -}}
{{- if .Values.publicKeyPackage.json -}}{{ include "frost.fullname" . }}-public-key-package{{- else -}}{{ .Values.publicKeyPackage.existingConfigMap }}{{- end -}}
{{- end -}}

{{/* Sealed key store: where each signer mounts its volume, and the volumeClaimTemplates entry's name. */}}
{{- define "frost.store.mountPath" -}}/var/lib/frost/store{{- end -}}
{{- define "frost.store.claim" -}}store{{- end -}}

{{/* A signer's KEK Secret: signers[].kekSecret, else the signer.store.kekSecret template. Call with (dict "root" $ "signer" .). */}}
{{- define "frost.signer.kekSecret" -}}
{{- if .signer.kekSecret -}}
{{- .signer.kekSecret -}}
{{- else -}}
{{- tpl .root.Values.signer.store.kekSecret (dict "name" (include "frost.signer.name" .) "id" .signer.id "fullname" (include "frost.fullname" .root) "Template" .root.Template) -}}
{{- end -}}
{{- end -}}

{{/*
The `kek` data (base64) of a KEK Secret the chart makes (signer.store.createKekSecrets), given what the cluster
holds: the existing Secret's (`secret`, as lookup returns it) byte for byte; none while the signer's store
volume exists (`claimExists`) without it; else 32 new random bytes (crypto/rand), whose base64 the signer
reads. Call with (dict "secret" S "secretName" N "signer" ID "claim" PVC "claimExists" BOOL).
*/}}
{{- define "frost.signer.kekData" -}}
{{- if .secret -}}
{{- $kek := index (.secret.data | default dict) "kek" | default "" -}}
{{- if not $kek -}}
{{- fail (printf "Secret %s exists without the key `kek`: the chart will not replace it; put signer %s's KEK in it (or delete it if that signer has never stored a key)" .secretName .signer) -}}
{{- end -}}
{{- $kek -}}
{{- else if .claimExists -}}
{{- fail (printf "KEK Secret %s is missing but signer %s's store volume %s exists: a new KEK cannot open its sealed keys. Restore the Secret from its backup (README, \"Backup\"); the chart makes a KEK only for a new store" .secretName .signer .claim) -}}
{{- else -}}
{{- randBytes 32 | b64enc -}}
{{- end -}}
{{- end -}}

{{/* SIGNER_DKG_PEERS: the signer ids (DNS names) of every signer of the release. */}}
{{- define "frost.dkg.peers" -}}
{{- $ids := list -}}
{{- range .Values.signers -}}
{{- $ids = append $ids (include "frost.signer.host" (dict "root" $ "signer" .)) -}}
{{- end -}}
{{- join "," $ids -}}
{{- end -}}

{{/* "true" when the coordinator's auth mode accepts client certificates (mtls, mtls-or-jwt, mtls-and-jwt). */}}
{{- define "frost.auth.mtls" -}}{{ if ne .Values.coordinator.auth.mode "jwt" }}true{{ end }}{{- end -}}
{{- define "frost.auth.jwt" -}}{{ if ne .Values.coordinator.auth.mode "mtls" }}true{{ end }}{{- end -}}

{{/* SAN of the helm test client's certificate. */}}
{{- define "frost.testClient.san" -}}DNS:{{ include "frost.fullname" . }}-test-client{{- end -}}

{{/* Client SANs the coordinator accepts: the configured callers plus the helm test client. */}}
{{- define "frost.coordinator.allowedSans" -}}
{{- $sans := .Values.coordinator.auth.allowedClientSans -}}
{{- if .Values.tests.enabled -}}
{{- $sans = append $sans (include "frost.testClient.san" .) -}}
{{- end -}}
{{- join "," $sans -}}
{{- end -}}

{{/*
"true" when the chart creates the callers' CA: cert-manager creates this release's issuers, the auth mode
takes client certificates, and no callers' CA Secret is given.
*/}}
{{- define "frost.callerCa.create" -}}
{{- if and .Values.certManager.enabled .Values.certManager.createIssuer (include "frost.auth.mtls" .) (not .Values.coordinator.auth.clientCaSecret) }}true{{ end -}}
{{- end -}}

{{/* Secret whose `ca.crt` is the callers' CA (the coordinator's client CA); empty when there is none. */}}
{{- define "frost.callerCa.secret" -}}
{{- if .Values.coordinator.auth.clientCaSecret -}}{{ .Values.coordinator.auth.clientCaSecret }}
{{- else if include "frost.callerCa.create" . -}}{{ include "frost.fullname" . }}-callers-ca
{{- end -}}
{{- end -}}

{{/* Issuers (as JSON): the deployment CA's, and the callers' CA's (name empty when the chart has none). */}}
{{- define "frost.issuer.deployment" -}}
{{- if .Values.certManager.createIssuer -}}
{{- dict "name" (printf "%s-ca" (include "frost.fullname" .)) "kind" "Issuer" "group" "cert-manager.io" | toJson -}}
{{- else -}}
{{- .Values.certManager.issuerRef | toJson -}}
{{- end -}}
{{- end -}}
{{- define "frost.issuer.callers" -}}
{{- if .Values.certManager.callerIssuerRef.name -}}
{{- .Values.certManager.callerIssuerRef | toJson -}}
{{- else if include "frost.callerCa.create" . -}}
{{- dict "name" (printf "%s-callers-ca" (include "frost.fullname" .)) "kind" "Issuer" "group" "cert-manager.io" | toJson -}}
{{- else -}}
{{- dict "name" "" | toJson -}}
{{- end -}}
{{- end -}}

{{/*
Shutdown grace (ms) passed to a service: what terminationGracePeriodSeconds leaves after the drain delay,
less a 5 s margin for the process to exit before the kubelet kills it. Call with (dict "tgps" N "delay" N).
*/}}
{{- define "frost.shutdownGraceMs" -}}{{ mul (sub (sub (int .tgps) (int .delay)) 5) 1000 }}{{- end -}}

{{/*
/sign outcomes that are the service's failures (the 5xx codes of the public API): the SLO's errors. Client
errors (4xx) are the caller's and never count against the service.
*/}}
{{- define "frost.serverErrorCodes" -}}QUORUM_UNAVAILABLE|DEADLINE_EXCEEDED|SHUTTING_DOWN|AUDIT_UNAVAILABLE|INTERNAL{{- end -}}

{{/* Prometheus series selectors (label matchers without braces) of this release's coordinator and signers. */}}
{{- define "frost.promSelector.coordinator" -}}
{{- .Values.prometheusRule.coordinatorSelector | default (printf "namespace=%q, job=%q" .Release.Namespace (include "frost.coordinator.name" .)) -}}
{{- end -}}
{{- define "frost.promSelector.signer" -}}
{{- $jobs := list -}}
{{- range .Values.signers -}}
{{- $jobs = append $jobs (include "frost.signer.name" (dict "root" $ "signer" .)) -}}
{{- end -}}
{{- .Values.prometheusRule.signerSelector | default (printf "namespace=%q, job=~%q" .Release.Namespace (join "|" $jobs)) -}}
{{- end -}}

{{/* Audit file of a pod: one hash chain per pod, named after it (POD_NAME from the downward API). */}}
{{- define "frost.audit.mountPath" -}}/var/lib/frost/audit{{- end -}}

{{/*
Cross-field checks the values schema cannot express; each fails the render with what to set.
*/}}
{{- define "frost.validate" -}}
{{- $c := .Values.coordinator -}}
{{- $fullname := include "frost.fullname" . -}}
{{- $mode := $c.auth.mode -}}
{{- if include "frost.auth.mtls" . -}}
{{- if not $c.auth.allowedClientSans -}}
{{- fail (printf "coordinator.auth.allowedClientSans is required for auth mode %s: list the client-certificate SANs allowed to call /sign (e.g. DNS:mint-api.payments.svc)" $mode) -}}
{{- end -}}
{{- $own := printf "DNS:%s-client" (include "frost.coordinator.name" .) -}}
{{- if has $own $c.auth.allowedClientSans -}}
{{- fail (printf "coordinator.auth.allowedClientSans must not hold %s: that is the coordinator's own signer-client certificate" $own) -}}
{{- end -}}
{{- if not (include "frost.callerCa.secret" .) -}}
{{- fail (printf "coordinator.auth.clientCaSecret is required for auth mode %s: a Secret whose ca.crt is the CA of the callers' client certificates (not the deployment CA); or set certManager.enabled=true with certManager.createIssuer=true to have the chart create a callers' CA" $mode) -}}
{{- end -}}
{{- $deploymentSecrets := list (printf "%s-ca" $fullname) (include "frost.tls.coordinator" .) (include "frost.tls.coordinatorClient" .) -}}
{{- range .Values.signers -}}
{{- $deploymentSecrets = append $deploymentSecrets (printf "%s-tls" (include "frost.signer.name" (dict "root" $ "signer" .))) -}}
{{- end -}}
{{- if has $c.auth.clientCaSecret $deploymentSecrets -}}
{{- fail (printf "coordinator.auth.clientCaSecret must not be %s: the deployment CA also issued the coordinator's signer-client certificate; name a separate callers' CA" $c.auth.clientCaSecret) -}}
{{- end -}}
{{- end -}}
{{- if include "frost.auth.jwt" . -}}
{{- if not $c.auth.jwksConfigMap -}}
{{- fail (printf "coordinator.auth.jwksConfigMap is required for auth mode %s: a ConfigMap with jwks.json, the callers' token keys" $mode) -}}
{{- end -}}
{{- if not $c.auth.jwtIssuer -}}
{{- fail (printf "coordinator.auth.jwtIssuer is required for auth mode %s: the iss every caller token must carry" $mode) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.tests.enabled (not (has $mode (list "mtls" "mtls-or-jwt"))) -}}
{{- fail (printf "tests.enabled needs auth mode mtls or mtls-or-jwt (the test Job authenticates with a client certificate alone); set tests.enabled=false for auth mode %s" $mode) -}}
{{- end -}}
{{- if and .Values.certManager.enabled .Values.certManager.callerIssuerRef.name -}}
{{- $d := include "frost.issuer.deployment" . | fromJson -}}
{{- $k := .Values.certManager.callerIssuerRef -}}
{{- if and (eq $k.name $d.name) (eq ($k.kind | default "Issuer") ($d.kind | default "Issuer")) -}}
{{- fail "certManager.callerIssuerRef must not be the deployment CA's issuer: callers need a CA of their own" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.certManager.enabled (not .Values.certManager.createIssuer) (not .Values.certManager.issuerRef.name) -}}
{{- fail "certManager.issuerRef.name is required when certManager.createIssuer=false" -}}
{{- end -}}
{{- if gt (int $c.maxMessageBytes) (int .Values.signer.policy.maxMessageBytes) -}}
{{- fail (printf "coordinator.maxMessageBytes (%v) must not exceed signer.policy.maxMessageBytes (%v): the signers would refuse what the coordinator accepts" $c.maxMessageBytes .Values.signer.policy.maxMessageBytes) -}}
{{- end -}}
{{- $b64 := mul (div (add (int $c.maxMessageBytes) 2) 3) 4 -}}
{{- if lt (int $c.maxBodyBytes) (add $b64 1024) -}}
{{- fail (printf "coordinator.maxBodyBytes (%v) must be at least %v: a /sign body carries the message in base64 (maxMessageBytes %v) plus up to 1 KiB of JSON" $c.maxBodyBytes (add $b64 1024) $c.maxMessageBytes) -}}
{{- end -}}
{{- $cGrace := sub (sub (int $c.terminationGracePeriodSeconds) (int $c.shutdownDelaySeconds)) 5 -}}
{{- $cNeed := div (add (int $c.signDeadlineMs) 999) 1000 -}}
{{- if lt $cGrace $cNeed -}}
{{- fail (printf "coordinator.terminationGracePeriodSeconds (%v) must be at least shutdownDelaySeconds (%v) + 5 + %v (the sign deadline), so in-flight requests can finish" $c.terminationGracePeriodSeconds $c.shutdownDelaySeconds $cNeed) -}}
{{- end -}}
{{- $s := .Values.signer -}}
{{- $sGrace := sub (sub (int $s.terminationGracePeriodSeconds) (int $s.shutdownDelaySeconds)) 5 -}}
{{- $sNeed := div (add (int $c.signerTimeoutMs) 999) 1000 -}}
{{- if lt $sGrace $sNeed -}}
{{- fail (printf "signer.terminationGracePeriodSeconds (%v) must be at least shutdownDelaySeconds (%v) + 5 + %v (coordinator.signerTimeoutMs), so in-flight RPCs can finish" $s.terminationGracePeriodSeconds $s.shutdownDelaySeconds $sNeed) -}}
{{- end -}}
{{- if and (include "frost.signersDial" .) (has (int $c.signerListenPort) (list (int $c.port) (int $c.opsPort))) -}}
{{- fail (printf "coordinator.signerListenPort (%v) must differ from coordinator.port and coordinator.opsPort: signer.connectivity=signersDial runs the signer listener beside them" $c.signerListenPort) -}}
{{- end -}}
{{- $store := .Values.signer.store -}}
{{- $keks := list -}}
{{- range $i, $signer := .Values.signers -}}
{{- if and (not $store.enabled) (not $signer.keySecret) -}}
{{- fail (printf "signers[%d] (%s) has no keySecret and signer.store.enabled=false: without a sealed store a signer can neither make nor keep a key; set signer.store.enabled=true (keys made by the signers) or give it a dealer's key Secret" $i $signer.id) -}}
{{- end -}}
{{- if $store.enabled -}}
{{- $kek := include "frost.signer.kekSecret" (dict "root" $ "signer" $signer) -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$" $kek) -}}
{{- fail (printf "the KEK Secret name of signer %s, %q (signer.store.kekSecret or signers[%d].kekSecret), is not a valid Secret name" $signer.id $kek $i) -}}
{{- end -}}
{{- if has $kek $keks -}}
{{- fail (printf "signers %s and another share the KEK Secret %s: every signer needs a KEK of its own (one stolen KEK must not open two stores)" $signer.id $kek) -}}
{{- end -}}
{{- $keks = append $keks $kek -}}
{{- end -}}
{{- end -}}
{{- if and $store.createKekSecrets (not $store.enabled) -}}
{{- fail "signer.store.createKekSecrets needs signer.store.enabled (a KEK seals the store)" -}}
{{- end -}}
{{- $admin := $c.admin.allowedClientSans -}}
{{- if $admin -}}
{{- if not (include "frost.auth.mtls" .) -}}
{{- fail (printf "coordinator.admin.allowedClientSans needs a client CA: auth mode %s takes no client certificates; use mtls, mtls-or-jwt or mtls-and-jwt" $mode) -}}
{{- end -}}
{{- $callers := splitList "," (include "frost.coordinator.allowedSans" .) -}}
{{- range $admin -}}
{{- if has . $callers -}}
{{- fail (printf "coordinator.admin.allowedClientSans and the /sign callers (coordinator.auth.allowedClientSans, the helm test client) must not overlap: %s is in both; an operator's certificate is not a caller's" .) -}}
{{- end -}}
{{- end -}}
{{- $own := printf "DNS:%s-client" (include "frost.coordinator.name" .) -}}
{{- if has $own $admin -}}
{{- fail (printf "coordinator.admin.allowedClientSans must not hold %s: that is the coordinator's own signer-client certificate" $own) -}}
{{- end -}}
{{- end -}}
{{- if and $c.audit.enabled (not $c.audit.volume) -}}
{{- fail "coordinator.audit.volume is required when coordinator.audit.enabled: the audit files must outlive the pod (e.g. { persistentVolumeClaim: { claimName: frost-audit } })" -}}
{{- end -}}
{{- if and $s.audit.enabled (not $s.audit.volume) -}}
{{- fail "signer.audit.volume is required when signer.audit.enabled: the audit files must outlive the pod" -}}
{{- end -}}
{{- range $component, $audit := dict "coordinator" $c.audit "signer" $s.audit -}}
{{- range $flag := list "failClosed" "sync" -}}
{{- if and (index $audit $flag) (not $audit.enabled) -}}
{{- fail (printf "%s.audit.%s needs %s.audit.enabled (an audit file)" $component $flag $component) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
