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

{{- define "frost.publicKeyPackage.configMap" -}}
{{- if .Values.publicKeyPackage.json -}}{{ include "frost.fullname" . }}-public-key-package{{- else -}}{{ .Values.publicKeyPackage.existingConfigMap }}{{- end -}}
{{- end -}}

{{/* Client SANs the coordinator accepts: configured ones plus the helm test client. */}}
{{- define "frost.coordinator.allowedSans" -}}
{{- $sans := .Values.coordinator.auth.allowedClientSans -}}
{{- if and .Values.tests.enabled (gt (len $sans) 0) -}}
{{- $sans = append $sans (printf "DNS:%s-test-client" (include "frost.fullname" .)) -}}
{{- end -}}
{{- join "," $sans -}}
{{- end -}}
